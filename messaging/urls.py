from django.urls import path

from messaging import api

urlpatterns = [
    path("messages", api.MessageListApi.as_view(), name="message-list"),
    path("messages/read-all", api.MessageReadAllApi.as_view(), name="message-read-all"),
    path("messages/unread-count", api.MessageUnreadCountApi.as_view(), name="message-unread-count"),
    path("messages/<id:pk>", api.MessageDetailApi.as_view(), name="message-detail"),
    path("messages/<id:pk>/read", api.MessageReadApi.as_view(), name="message-read"),
]
