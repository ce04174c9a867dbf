"""The portal's terms of use, versioned: an account records the version its patient accepted.
A new text needs a new TERMS_VERSION (the same version must always mean the same words)."""

from __future__ import annotations

TERMS_VERSION = "2026-01"

TERMS: dict[str, list[str]] = {
    "en": [
        "The patient portal lets you see your appointments, messages from your care team and "
        "parts of your health record. It is for you only: do not share your password.",
        "Keep your password and your phone safe. If you think someone else used your account, "
        "call the clinic and we will lock it.",
        "The portal is not for emergencies. If you need help now, call 911 or go to the nearest "
        "emergency room.",
        "Messages are usually answered within two business days. Information in the portal may "
        "not include results your clinician has not reviewed yet.",
        "We protect your information as described in our Notice of Privacy Practices, which you "
        "can ask for at the front desk at any time.",
        "You can close your portal account at any time by calling the clinic.",
    ],
    "es": [
        "El portal del paciente le permite ver sus citas, los mensajes de su equipo de atención "
        "y partes de su historial de salud. Es solo para usted: no comparta su contraseña.",
        "Proteja su contraseña y su teléfono. Si cree que otra persona usó su cuenta, llame a la "
        "clínica y la bloquearemos.",
        "El portal no es para emergencias. Si necesita ayuda ahora, llame al 911 o vaya a la sala "
        "de emergencias más cercana.",
        "Los mensajes se suelen contestar en dos días hábiles. Puede que el portal no muestre "
        "resultados que su médico todavía no ha revisado.",
        "Protegemos su información como se explica en nuestro Aviso de Prácticas de Privacidad, "
        "que puede pedir en la recepción en cualquier momento.",
        "Puede cerrar su cuenta del portal cuando quiera llamando a la clínica.",
    ],
}


def terms_text(language: str) -> list[str]:
    return TERMS.get(language, TERMS["en"])
