"""Messaging API: thin views that parse, call one selector or service, and answer.

A message is visible to its sender and its receiver only; to anyone else, in the clinic or not,
it does not exist (404).
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response

from keneyapp.accounts.permissions import IsClinicStaff, RolePermission
from keneyapp.core.pagination import page_response, parse_page_request
from keneyapp.core.serializers import page_output, validated_input
from keneyapp.core.views import ClinicApiView
from messaging import selectors, services
from messaging.serializers import (
    MarkAllReadOutput,
    MessageCreateInput,
    MessageListQuery,
    MessageOutput,
    UnreadCountOutput,
)


class MessageAccessMixin:
    permission_classes = [IsClinicStaff, RolePermission]
    role_actions = {"GET": "messages.view", "POST": "messages.send"}
    # A message may be about a patient (its `patient`): who read it is recorded like any access.
    audit_model = "messaging.message"
    audit_patient = "patient.id"


class MessageListApi(MessageAccessMixin, ClinicApiView):
    @extend_schema(
        operation_id="messages_list",
        parameters=[
            OpenApiParameter("skip", int),
            OpenApiParameter("limit", int, description="1 to 100 (default 50)."),
            OpenApiParameter(
                "box",
                str,
                enum=list(selectors.BOXES),
                description="inbox (received, the default) or sent; with `thread` and no box, both.",
            ),
            OpenApiParameter("unread", bool, description="Only messages not read yet."),
            OpenApiParameter("thread", int, description="Only this conversation (its first message's id)."),
            OpenApiParameter(
                "after_id",
                int,
                description="Catching up: only messages with a larger id, oldest first "
                "(page on with the last id received).",
            ),
        ],
        responses=page_output("MessagePage", MessageOutput(many=True)),
    )
    def get(self, request):
        page = parse_page_request(request.query_params)
        query = validated_input(MessageListQuery, MessageListQuery.data_from(request.query_params))
        queryset = selectors.message_list_queryset(
            tenant=request.user.tenant,
            user=request.user,
            box=query.get("box"),
            unread=query["unread"],
            thread_id=query.get("thread"),
            after_id=query.get("after_id"),
        )
        items, total = selectors.message_page(
            queryset=queryset, oldest_first="after_id" in query, skip=page.skip, limit=page.limit
        )
        services.messages_mark_delivered(receiver=request.user, items=items)
        return Response(page_response(items, total=total, page=page))

    @extend_schema(request=MessageCreateInput, responses={201: MessageOutput})
    def post(self, request):
        data = validated_input(MessageCreateInput, request.data)
        sent = services.message_send(sender=request.user, **data)
        return Response(
            sent.item,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/messages/{sent.message.pk}"},
        )


class MessageDetailApi(MessageAccessMixin, ClinicApiView):
    def load_object(self, request, pk: int):
        return selectors.message_detail(tenant=request.user.tenant, user=request.user, message_id=pk)

    @extend_schema(operation_id="messages_retrieve", responses=MessageOutput)
    def get(self, request, pk: int):
        item = self.object
        services.messages_mark_delivered(receiver=request.user, items=[item])
        return Response(item)


class MessageReadApi(MessageAccessMixin, ClinicApiView):
    role_actions = {"POST": "messages.view"}

    def load_object(self, request, pk: int):
        return selectors.message_get(tenant=request.user.tenant, user=request.user, message_id=pk)

    @extend_schema(operation_id="messages_mark_read", request=None, responses=MessageOutput)
    def post(self, request, pk: int):
        message = services.message_mark_read(message=self.object, reader=request.user)
        return Response(selectors.message_as_api(message.pk))


class MessageReadAllApi(MessageAccessMixin, ClinicApiView):
    role_actions = {"POST": "messages.view"}
    audit_model = ""
    audit_exempt = "marks the caller's own messages read; answers counts, no message or patient"

    @extend_schema(operation_id="messages_mark_all_read", request=None, responses=MarkAllReadOutput)
    def post(self, request):
        marked = services.messages_mark_all_read(reader=request.user)
        unread = selectors.unread_count(tenant=request.user.tenant, user=request.user)
        return Response({"marked_read": marked, "unread": unread})


class MessageUnreadCountApi(MessageAccessMixin, ClinicApiView):
    audit_model = ""
    audit_exempt = "the caller's unread count: no message or patient"

    @extend_schema(operation_id="messages_unread_count", responses=UnreadCountOutput)
    def get(self, request):
        return Response({"unread": selectors.unread_count(tenant=request.user.tenant, user=request.user)})
