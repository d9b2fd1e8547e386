"""Input validation for messages (bodies and query parameters)."""

from django.conf import settings
from django.utils.translation import gettext
from rest_framework import serializers

from keneyapp.core.serializers import (
    PatientSummaryOutput,
    PersonSummaryOutput,
    StrictInputSerializer,
    StrictIntegerField,
)
from messaging.models import SUBJECT_MAX_LENGTH, MessageStatus
from messaging.selectors import BOXES


class MessageCreateInput(StrictInputSerializer):
    receiver_id = StrictIntegerField()
    subject = serializers.CharField(
        max_length=SUBJECT_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    # Not trimmed: the text is stored as written; a body of only spaces is refused as empty.
    body = serializers.CharField(trim_whitespace=False)
    patient_id = StrictIntegerField(required=False, allow_null=True)
    parent_id = StrictIntegerField(required=False, allow_null=True)
    is_urgent = serializers.BooleanField(required=False, default=False)

    def validate_body(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(gettext("A message needs a body."), code="blank")
        limit = settings.MESSAGE_BODY_MAX_CHARS
        if len(value) > limit:
            raise serializers.ValidationError(
                gettext("At most %(limit)s characters (this one has %(length)s).")
                % {"limit": limit, "length": len(value)},
                code="max_length",
            )
        return value


class MessageListQuery(serializers.Serializer):
    """Query parameters of GET /messages; paging is parsed by keneyapp.core.pagination."""

    box = serializers.ChoiceField(choices=BOXES, required=False)
    unread = serializers.BooleanField(required=False, default=False)
    thread = StrictIntegerField(required=False)
    after_id = StrictIntegerField(min_value=0, required=False)

    @staticmethod
    def data_from(query_params) -> dict:
        return {
            name: query_params[name]
            for name in ("box", "unread", "thread", "after_id")
            if name in query_params
        }


class MessageOutput(serializers.Serializer):
    """Documents the answer's shape for the OpenAPI schema (messaging.selectors.message_row_as_api
    builds it; the live events carry the same)."""

    id = serializers.IntegerField()
    thread_id = serializers.IntegerField(help_text="The id of the conversation's first message.")
    parent_id = serializers.IntegerField(allow_null=True)
    sender = PersonSummaryOutput()
    receiver = PersonSummaryOutput()
    patient = PatientSummaryOutput(allow_null=True)
    subject = serializers.CharField()
    body = serializers.CharField()
    status = serializers.ChoiceField(choices=MessageStatus.choices)
    is_urgent = serializers.BooleanField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    read_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class UnreadCountOutput(serializers.Serializer):
    unread = serializers.IntegerField()


class MarkAllReadOutput(UnreadCountOutput):
    marked_read = serializers.IntegerField(help_text="Messages this call marked read.")
