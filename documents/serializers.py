"""Input validation for document writes. Output is built from `.values()` in the selectors."""

from rest_framework import serializers

from documents.models import UPLOAD_CATEGORIES, DocumentCategory, DocumentStatus
from keneyapp.core.serializers import StrictInputSerializer, StrictIntegerField

UPLOAD_CATEGORY_CHOICES = [(value, DocumentCategory(value).label) for value in UPLOAD_CATEGORIES]


class DocumentFieldsInput(StrictInputSerializer):
    patient_id = StrictIntegerField()
    category = serializers.ChoiceField(choices=UPLOAD_CATEGORY_CHOICES)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)


class DocumentUploadInput(DocumentFieldsInput):
    # Empty files pass here and are refused by the service with the code `empty_file`.
    file = serializers.FileField(allow_empty_file=True, use_url=False)


class DocumentVersionInput(StrictInputSerializer):
    file = serializers.FileField(allow_empty_file=True, use_url=False)


class DocumentPresignInput(DocumentFieldsInput):
    filename = serializers.CharField(max_length=1000)
    content_type = serializers.CharField(max_length=100)
    size = StrictIntegerField()


class DocumentOutput(serializers.Serializer):
    """Documents the answer's shape for the OpenAPI schema; answers are built from `.values()`."""

    id = serializers.IntegerField()
    patient_id = serializers.IntegerField()
    category = serializers.ChoiceField(choices=DocumentCategory.choices)
    title = serializers.CharField()
    original_filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    status = serializers.ChoiceField(choices=DocumentStatus.choices)
    version = serializers.IntegerField()
    uploaded_by = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


def default_title(title: str, filename: str) -> str:
    return (title or "").strip() or filename[:200]
