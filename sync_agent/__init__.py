"""The kiosk's sync agent: a separate process that pushes the outbox to the practice
server and pulls the schedule and bundles into the kiosk store (no Kivy here).

    python -m sync_agent [--config PATH] [--once]
    python -m sync_agent status [--config PATH]

client.py talks HTTP (signed, the contract in docs/SYNC_API.md); agent.py is the loop.
"""
