"""The moderation Mini App (a Telegram Web App) served by the gateway.

``/miniapp/<community id>/`` is the page (one HTML, JS and CSS file, no build
step) and ``/miniapp/<community id>/api/...`` its JSON API. Every API call
carries the ``initData`` Telegram gave the page, checked as the Web Apps
documentation specifies (see :mod:`services.gateway.miniapp.auth`); decisions
go through the same exactly-once ``ModerateConfession`` as the card buttons.
No response names an author: confessions, numbers, pseudonyms and counts only.
"""
