"""`twin.sync`'s mirror modules import without paho-mqtt (it loads inside the functions that
talk to a broker), so `import twin` and `twin --help` stay light."""

from __future__ import annotations

import subprocess
import sys


def test_mirror_modules_import_without_paho() -> None:
    code = (
        "import sys; sys.modules['paho'] = None\n"  # any import of paho now fails
        "import twin, twin.cli, twin.sync.mirror, twin.sync.mirror_replay, twin.sync.mirror_ingest\n"
        "from twin.sync.mirror_broker import parse_broker_url\n"
        "print(parse_broker_url('mqtt://u:p@h'))\n"
        "assert not any(name.startswith('paho') and sys.modules[name] for name in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "mqtt://u:***@h:1883"
