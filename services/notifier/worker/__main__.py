from services.notifier.worker.process import main

main()
