import sys

from loadgen.commands.main import main

sys.exit(main())
