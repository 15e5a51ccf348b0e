from urr_audit.cli import main

main()
