"""Consent: the versioned documents a patient reads and signs at the kiosk (no Kivy).

`documents.py` reads them (bundled defaults in `documents/*.json`, or the server's consents
bundle), picks the text in the patient's language and hashes exactly what was shown.
The signature itself is `kiosk.signature`; the pad is `kiosk.widgets.signature_pad`.
"""
