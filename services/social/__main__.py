from services.social.server import main

main()
