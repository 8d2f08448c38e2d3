from policykb.cli import main

main()
