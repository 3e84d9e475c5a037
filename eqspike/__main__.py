import sys

from eqspike.cli import main

sys.exit(main())
