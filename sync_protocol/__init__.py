"""What the kiosk's sync agent and the practice server must agree on (no Kivy, no web framework)."""
