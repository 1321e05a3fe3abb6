import sys

from stepdown.cli import main

sys.exit(main())
