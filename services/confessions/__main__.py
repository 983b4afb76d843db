from services.confessions.server import main

main()
