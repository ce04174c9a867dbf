"""Every word the enrolment pages show, in English and Spanish, and the choice of language
(?lang=, then the enrolment's own choice, then Accept-Language, then English).

The portal pages are served by the practice server, not the kiosk, so they keep their own
small table here instead of the kiosk's gettext catalogs. Text is plain: templates escape it.
"""

from __future__ import annotations

LANGUAGES = ("en", "es")
DEFAULT = "en"

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "portal": "Patient portal",
        "other_language": "Español",
        "other_language_code": "es",
        "step_of": "Step {step} of {steps}",
        "continue": "Continue",
        "errors_title": "Please check this page",
        # birth date
        "bd_title": "Confirm your birth date",
        "bd_intro": "You are signing up for the patient portal. To protect your health "
                    "information, please enter your date of birth.",
        "bd_legend": "Date of birth",
        "month": "Month",
        "day": "Day",
        "year": "Year",
        "year_hint": "4 digits, like 1956",
        "choose_month": "Choose a month",
        "months": "January,February,March,April,May,June,July,August,September,October,November,December",
        "bd_invalid": "Enter a real date: the month, the day and the year with 4 digits.",
        "bd_wrong": "That birth date does not match our records.",
        "bd_tries_left": "Tries left before this invitation is locked: {n}.",
        # password
        "pw_title": "Choose a password",
        "pw_intro": "You will use it to sign in to the portal.",
        "pw_rules_title": "Your password needs:",
        "pw_rule_length": "At least 12 characters. A short sentence, like three words "
                          "with spaces, is easy to remember.",
        "pw_rule_common": "Not a common password such as “Password123”.",
        "password": "Password",
        "password_again": "Type the same password again",
        "show_password": "Show password",
        "pw_too_short": "Your password is shorter than 12 characters.",
        "pw_too_long": "Your password is longer than 128 characters.",
        "pw_common": "This password is too easy to guess. Try a few words that belong together "
                     "only for you.",
        "pw_mismatch": "The two passwords are not the same. Type them again.",
        # two-factor
        "tf_title": "Extra protection (optional)",
        "tf_intro": "An authenticator app on your phone makes a new 6-digit code every 30 seconds. "
                    "If you turn this on, signing in asks for that code too. You can skip this.",
        "tf_scan": "1. Open your authenticator app and scan this code.",
        "tf_qr_label": "QR code for your authenticator app",
        "tf_same_phone": "Is the app on this phone? Then tap here instead:",
        "tf_open_app": "Add to my authenticator app",
        "tf_key": "Or type this key into the app:",
        "tf_enter": "2. Enter the 6-digit code the app shows.",
        "tf_code": "6-digit code",
        "tf_turn_on": "Turn on",
        "tf_skip": "Skip this step",
        "tf_wrong": "That code did not work. Check that your phone shows the right time, then "
                    "enter the newest code.",
        "tf_enabled": "The authenticator app is set up.",
        # terms
        "terms_title": "Terms of use",
        "terms_version": "Version {version}",
        "terms_accept": "I have read and I accept the terms of use",
        "terms_create": "Create my account",
        "terms_required": "Please tick the box to accept the terms of use.",
        # done
        "done_title": "Your portal account is ready",
        "done_body": "Thank you. You can now sign in to the patient portal with your password. "
                     "You can close this page.",
        "done_totp": "When you sign in, the portal will also ask for the code from your "
                     "authenticator app.",
        # clear pages for problems
        "expired_title": "This invitation has expired",
        "expired_body": "Invitations work for a limited time. Ask at the front desk, or use the "
                        "kiosk at your next visit, to get a new one.",
        "used_title": "This invitation was already used",
        "used_body": "A portal account was already made with this invitation. If that was not "
                     "you, please call the clinic.",
        "forged_title": "We cannot read this invitation",
        "forged_body": "The link may be incomplete or changed. Scan the QR code from the kiosk "
                       "again, or ask at the front desk.",
        "revoked_title": "This invitation is no longer valid",
        "revoked_body": "It was made by a kiosk that is no longer in use. Ask at the front desk "
                        "for a new invitation.",
        "locked_title": "This invitation is locked",
        "locked_body": "The birth date was entered wrong too many times. For your safety the "
                       "invitation cannot be used any more. Ask at the front desk for a new one.",
        "too_many_title": "Too many attempts",
        "too_many_body": "For your safety, please wait {minutes} minutes and then try again.",
        "too_many_body_one": "For your safety, please wait 1 minute and then try again.",
        "has_account_title": "You already have a portal account",
        "has_account_body": "Sign in with your password. If you forgot it, please call the clinic.",
        "session_title": "This page has expired",
        "session_body": "For your safety, sign-up pages work for 30 minutes. Scan the QR code "
                        "from the kiosk again to start over.",
        "csrf_title": "Please start again",
        "csrf_body": "This form did not come from our page, or it is out of date. Scan the QR "
                     "code from the kiosk again to start over.",
        "missing_title": "No invitation",
        "missing_body": "This page opens from the QR code the kiosk shows. Scan it with your "
                        "phone's camera.",
    },
    "es": {
        "portal": "Portal del paciente",
        "other_language": "English",
        "other_language_code": "en",
        "step_of": "Paso {step} de {steps}",
        "continue": "Continuar",
        "errors_title": "Revise esta página, por favor",
        "bd_title": "Confirme su fecha de nacimiento",
        "bd_intro": "Se está registrando en el portal del paciente. Para proteger su "
                    "información de salud, escriba su fecha de nacimiento.",
        "bd_legend": "Fecha de nacimiento",
        "month": "Mes",
        "day": "Día",
        "year": "Año",
        "year_hint": "4 cifras, por ejemplo 1956",
        "choose_month": "Elija un mes",
        "months": "enero,febrero,marzo,abril,mayo,junio,julio,agosto,septiembre,octubre,"
                  "noviembre,diciembre",
        "bd_invalid": "Escriba una fecha real: el día, el mes y el año con 4 cifras.",
        "bd_wrong": "Esa fecha de nacimiento no coincide con nuestros registros.",
        "bd_tries_left": "Intentos que quedan antes de bloquear esta invitación: {n}.",
        "pw_title": "Elija una contraseña",
        "pw_intro": "La usará para entrar al portal.",
        "pw_rules_title": "Su contraseña necesita:",
        "pw_rule_length": "Al menos 12 caracteres. Una frase corta, como tres palabras con "
                          "espacios, es fácil de recordar.",
        "pw_rule_common": "No ser una contraseña común como «Contraseña123».",
        "password": "Contraseña",
        "password_again": "Escriba la misma contraseña otra vez",
        "show_password": "Mostrar la contraseña",
        "pw_too_short": "Su contraseña tiene menos de 12 caracteres.",
        "pw_too_long": "Su contraseña tiene más de 128 caracteres.",
        "pw_common": "Esta contraseña es muy fácil de adivinar. Pruebe con unas palabras que "
                     "solo usted relacione.",
        "pw_mismatch": "Las dos contraseñas no son iguales. Escríbalas otra vez.",
        "tf_title": "Protección adicional (opcional)",
        "tf_intro": "Una aplicación de autenticación en su teléfono crea un código nuevo de 6 "
                    "cifras cada 30 segundos. Si activa esta opción, al entrar también se le "
                    "pedirá ese código. Puede omitir este paso.",
        "tf_scan": "1. Abra su aplicación de autenticación y escanee este código.",
        "tf_qr_label": "Código QR para su aplicación de autenticación",
        "tf_same_phone": "¿La aplicación está en este teléfono? Entonces toque aquí:",
        "tf_open_app": "Añadir a mi aplicación de autenticación",
        "tf_key": "O escriba esta clave en la aplicación:",
        "tf_enter": "2. Escriba el código de 6 cifras que muestra la aplicación.",
        "tf_code": "Código de 6 cifras",
        "tf_turn_on": "Activar",
        "tf_skip": "Omitir este paso",
        "tf_wrong": "Ese código no funcionó. Revise que su teléfono tenga la hora correcta y "
                    "escriba el código más reciente.",
        "tf_enabled": "La aplicación de autenticación está lista.",
        "terms_title": "Condiciones de uso",
        "terms_version": "Versión {version}",
        "terms_accept": "He leído y acepto las condiciones de uso",
        "terms_create": "Crear mi cuenta",
        "terms_required": "Marque la casilla para aceptar las condiciones de uso.",
        "done_title": "Su cuenta del portal está lista",
        "done_body": "Gracias. Ya puede entrar al portal del paciente con su contraseña. "
                     "Puede cerrar esta página.",
        "done_totp": "Al entrar, el portal también le pedirá el código de su aplicación de "
                     "autenticación.",
        "expired_title": "Esta invitación ha caducado",
        "expired_body": "Las invitaciones sirven por un tiempo limitado. Pida una nueva en la "
                        "recepción o use el quiosco en su próxima visita.",
        "used_title": "Esta invitación ya se usó",
        "used_body": "Ya se creó una cuenta del portal con esta invitación. Si no fue usted, "
                     "llame a la clínica, por favor.",
        "forged_title": "No podemos leer esta invitación",
        "forged_body": "Puede que el enlace esté incompleto o cambiado. Escanee otra vez el "
                       "código QR del quiosco o pregunte en la recepción.",
        "revoked_title": "Esta invitación ya no es válida",
        "revoked_body": "La creó un quiosco que ya no está en uso. Pida una invitación nueva en "
                        "la recepción.",
        "locked_title": "Esta invitación está bloqueada",
        "locked_body": "La fecha de nacimiento se escribió mal demasiadas veces. Por su "
                       "seguridad ya no se puede usar. Pida una nueva en la recepción.",
        "too_many_title": "Demasiados intentos",
        "too_many_body": "Por su seguridad, espere {minutes} minutos y vuelva a intentarlo.",
        "too_many_body_one": "Por su seguridad, espere 1 minuto y vuelva a intentarlo.",
        "has_account_title": "Usted ya tiene una cuenta del portal",
        "has_account_body": "Entre con su contraseña. Si la olvidó, llame a la clínica, por favor.",
        "session_title": "Esta página ha caducado",
        "session_body": "Por su seguridad, las páginas de registro sirven durante 30 minutos. "
                        "Escanee otra vez el código QR del quiosco para empezar de nuevo.",
        "csrf_title": "Empiece de nuevo, por favor",
        "csrf_body": "Este formulario no vino de nuestra página o ya no es válido. Escanee otra "
                     "vez el código QR del quiosco para empezar de nuevo.",
        "missing_title": "No hay invitación",
        "missing_body": "Esta página se abre con el código QR que muestra el quiosco. Escanéelo "
                        "con la cámara de su teléfono.",
    },
}


def normalise(code: str | None) -> str | None:
    """'es', 'es-MX', 'ES_us' -> 'es'; None for a language the portal does not speak."""
    if not code:
        return None
    base = code.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGUAGES else None


def from_accept_language(header: str | None) -> str | None:
    """The best language of an Accept-Language header that the portal speaks."""
    if not header:
        return None
    ranked = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        language = normalise(tag)
        if language and weight > 0:
            ranked.append((-weight, position, language))
    return min(ranked)[2] if ranked else None


def choose(query: str | None, chosen_before: str | None, accept_language: str | None) -> str:
    return (normalise(query) or normalise(chosen_before) or from_accept_language(accept_language)
            or DEFAULT)


def words(language: str) -> dict[str, str]:
    return MESSAGES.get(language, MESSAGES[DEFAULT])
