"""Websocket routes. The /ws/events/ consumer arrives with the live dashboards issue."""

websocket_urlpatterns: list = []
