"""IT's tools: practice PKI, sites, enrolment tokens, kiosk enrolment, fleet, systemd units.

`python -m provisioning --help` lists the commands. No Kivy here; the admin commands
(sites, tokens, fleet, revoke) need `practice_server` installed, `enrol` needs only this
package and `kiosk` (it runs on the kiosk).
"""
