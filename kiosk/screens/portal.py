"""Portal sign-up: a large QR code of the invitation link (made with qrcode, shown crisp)."""
from __future__ import annotations

import io

from kivy.core.image import Image as CoreImage

from kiosk.screens import load_kv_once
from kiosk.screens.base import KioskScreen


def qr_png(text: str) -> bytes:
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4)
    code.add_data(text)
    code.make(fit=True)
    out = io.BytesIO()
    code.make_image().save(out, format="PNG")
    return out.getvalue()


class PortalScreen(KioskScreen):
    def refresh(self) -> None:
        journey = self.journey
        if journey is None or journey.session is None or journey.state != "portal":
            return
        texture = CoreImage(io.BytesIO(qr_png(journey.step("portal").link(journey))), ext="png").texture
        texture.mag_filter = "nearest"  # sharp modules: phones read a crisp code faster
        self.ids.qr.texture = texture

    def finish(self, signed_up_now: bool) -> None:
        self.journey.step("portal").done(self.journey, signed_up_now)
        self.app.sync()

    def clear(self) -> None:
        super().clear()
        self.ids.qr.texture = None


load_kv_once(__file__)
