"""Documents API: thin views that parse, call one selector or service, and answer.

The upload views stream the request body through DocumentUploadHandler (documents/uploads.py): it
is installed on the request before anything reads the body, so the file goes to a temporary file
chunk by chunk instead of into memory.
"""

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from documents import downloads, selectors, services
from documents.models import DocumentCategory
from documents.serializers import (
    DocumentOutput,
    DocumentPresignInput,
    DocumentUploadInput,
    DocumentVersionInput,
    default_title,
)
from documents.uploads import DocumentUploadHandler
from keneyapp.accounts.permissions import IsClinicStaff, RolePermission
from keneyapp.core.pagination import page_response, parse_page_request, query_integer
from keneyapp.core.serializers import page_output, validated_input
from keneyapp.core.views import ClinicApiView
from patients.selectors import patient_get, patient_resolve

DOCUMENT_PAGE = page_output("DocumentPage", DocumentOutput(many=True))


class DocumentAccessMixin:
    permission_classes = [IsClinicStaff, RolePermission]
    role_actions: dict[str, str] = {}
    audit_model = "documents.document"
    audit_patient = "patient_id"

    def load_object(self, request, pk: int):
        """A document of the clinic (the routes of one document)."""
        return selectors.document_get(tenant=request.user.tenant, document_id=pk)


class DocumentDetailMixin(DocumentAccessMixin):
    """Routes whose reads answer with the document's detail row (its versions included)."""

    def load_object(self, request, pk: int):
        if request.method in SAFE_METHODS:
            return selectors.document_detail(tenant=request.user.tenant, document_id=pk)
        return super().load_object(request, pk)


class StreamedUploadMixin:
    """For views that take a multipart file: stream it (see the module docstring)."""

    parser_classes = [MultiPartParser]

    def streamed_input(self, request, serializer_class) -> dict:
        handler = DocumentUploadHandler(request._request)
        # Must happen before the body is read; nothing before the view reads it (DRF views are
        # CSRF-exempt and authenticate from the header only).
        request._request.upload_handlers = [handler]
        try:
            return validated_input(serializer_class, request.data)
        except BaseException:
            handler.discard()
            raise


class DocumentListApi(DocumentAccessMixin, ClinicApiView):
    role_actions = {"GET": "documents.view"}

    @extend_schema(
        operation_id="documents_list",
        parameters=[
            OpenApiParameter("skip", int, description="Rows to skip (>= 0)."),
            OpenApiParameter("limit", int, description="Page size, 1 to 100 (default 50)."),
            OpenApiParameter("patient_id", int),
            OpenApiParameter("category", str, enum=DocumentCategory.values),
        ],
        responses=DOCUMENT_PAGE,
    )
    def get(self, request):
        params = request.query_params
        page = parse_page_request(params)
        patient_id = query_integer(params, "patient_id")
        category = params.get("category") or None
        if category is not None and category not in DocumentCategory.values:
            raise ValidationError(
                {"category": [_("One of: %(values)s.") % {"values": ", ".join(DocumentCategory.values)}]}
            )
        tenant = request.user.tenant
        if patient_id is not None:
            patient_resolve(tenant=tenant, patient_id=patient_id, unknown=_("No such patient."))
        items, total = selectors.document_page(
            tenant=tenant, patient_id=patient_id, category=category, skip=page.skip, limit=page.limit
        )
        return Response(page_response(items, total=total, page=page))


class DocumentUploadApi(StreamedUploadMixin, DocumentAccessMixin, ClinicApiView):
    role_actions = {"POST": "documents.add"}

    @extend_schema(request={"multipart/form-data": DocumentUploadInput}, responses={201: DocumentOutput})
    def post(self, request):
        data = self.streamed_input(request, DocumentUploadInput)
        upload = data["file"]
        document = services.document_upload(
            tenant=request.user.tenant,
            uploaded_by=request.user,
            patient_id=data["patient_id"],
            category=data["category"],
            title=default_title(data.get("title", ""), services.clean_display_filename(upload.name)),
            upload=upload,
        )
        return Response(
            selectors.document_as_api(document),
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/documents/{document.pk}"},
        )


class DocumentPresignApi(DocumentAccessMixin, ClinicApiView):
    role_actions = {"POST": "documents.add"}
    audit_object_key = "document.id"
    audit_patient = "document.patient_id"

    @extend_schema(
        request=DocumentPresignInput,
        responses={
            201: inline_serializer(
                "DocumentPresign",
                {
                    "document": DocumentOutput(),
                    "upload": inline_serializer(
                        "PresignedPost", {"url": serializers.URLField(), "fields": serializers.DictField()}
                    ),
                    "expires_in": serializers.IntegerField(),
                },
            )
        },
    )
    def post(self, request):
        data = validated_input(DocumentPresignInput, request.data)
        filename = services.clean_display_filename(data["filename"])
        document, post = services.document_presign(
            tenant=request.user.tenant,
            uploaded_by=request.user,
            patient_id=data["patient_id"],
            category=data["category"],
            title=default_title(data.get("title", ""), filename),
            filename=filename,
            content_type=data["content_type"],
            size=data["size"],
        )
        body = {
            "document": selectors.document_as_api(document),
            "upload": {"url": post["url"], "fields": post["fields"]},
            "expires_in": settings.DOCUMENT_PRESIGN_EXPIRY_SECONDS,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class DocumentDetailApi(DocumentDetailMixin, ClinicApiView):
    role_actions = {"GET": "documents.view", "DELETE": "documents.delete"}

    @extend_schema(operation_id="documents_retrieve", responses=DocumentOutput)
    def get(self, request, pk: int):
        return Response(self.object)

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        services.document_soft_delete(document=self.object)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DocumentConfirmApi(DocumentAccessMixin, ClinicApiView):
    role_actions = {"POST": "documents.add"}

    @extend_schema(request=None, responses=DocumentOutput)
    def post(self, request, pk: int):
        document = services.document_confirm(document=self.object)
        return Response(selectors.document_as_api(document))


class DocumentVersionsApi(StreamedUploadMixin, DocumentDetailMixin, ClinicApiView):
    """A new version's document is loaded before the handler reads the body: a 404 costs no upload."""

    role_actions = {"GET": "documents.view", "POST": "documents.add"}

    @extend_schema(operation_id="documents_versions_list", responses=DocumentOutput(many=True))
    def get(self, request, pk: int):
        return Response(self.object["versions"])

    @extend_schema(request={"multipart/form-data": DocumentVersionInput}, responses={201: DocumentOutput})
    def post(self, request, pk: int):
        data = self.streamed_input(request, DocumentVersionInput)
        document = services.document_add_version(
            document=self.object, uploaded_by=request.user, upload=data["file"]
        )
        return Response(selectors.document_as_api(document), status=status.HTTP_201_CREATED)


class DocumentDownloadApi(DocumentAccessMixin, ClinicApiView):
    role_actions = {"GET": "documents.download"}
    audit_actions = {"GET": "download", "HEAD": "download"}

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            302: OpenApiResponse(description="S3 storage: the presigned URL of the file, in Location."),
        },
        parameters=[OpenApiParameter("version", int, description="An older version (default: the latest).")],
        description="S3: 302 to a presigned URL valid DOCUMENT_DOWNLOAD_EXPIRY_SECONDS; local: the file.",
    )
    def get(self, request, pk: int):
        document = self.object
        number = query_integer(request.query_params, "version")
        version = None
        if number is not None and number != document.version:
            version = selectors.document_version_resolve(document=document, version=number)
        return downloads.download_response(
            document=document, user=request.user, through="api", version=version
        )


class PatientReportApi(ClinicApiView):
    permission_classes = [IsClinicStaff, RolePermission]
    role_actions = {"POST": "documents.report"}
    audit_model = "patients.patient"
    audit_patient = "pk"
    audit_actions = {"POST": "report"}

    def load_object(self, request, pk: int):
        return patient_get(tenant=request.user.tenant, patient_id=pk)

    @extend_schema(request=None, responses={202: DocumentOutput})
    def post(self, request, pk: int):
        document, _ = services.report_request(
            tenant=request.user.tenant, requested_by=request.user, patient=self.object
        )
        return Response(
            selectors.document_as_api(document),
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/documents/{document.pk}"},
        )
