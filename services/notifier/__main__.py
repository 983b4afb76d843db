from services.notifier.server import main

main()
