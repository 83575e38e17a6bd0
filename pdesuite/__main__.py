from pdesuite.cli import main

raise SystemExit(main())
