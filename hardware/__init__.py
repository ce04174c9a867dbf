"""Device drivers behind small interfaces, each with a simulator (no Kivy here)."""
