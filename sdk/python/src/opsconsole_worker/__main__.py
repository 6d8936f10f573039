import sys

from opsconsole_worker.cli import main

sys.exit(main())
