import sys

from aeviz.cli import main

sys.exit(main())
