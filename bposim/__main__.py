from bposim.cli import main

main()
