"""member_variants.py's lines as a table (variants.py's: mean, ratio to the best expert, paired with 3+3).

python members.py members.jsonl > members.txt
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

rows = [json.loads(line) for line in open(sys.argv[1])]
with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
    for r in rows:  # variants.py pairs every variant with "as-is"
        fh.write(json.dumps(r | {"variant": "as-is" if r["variant"] == "3+3" else r["variant"]}) + "\n")
subprocess.run([sys.executable, str(Path(__file__).with_name("variants.py")), fh.name], check=True)
