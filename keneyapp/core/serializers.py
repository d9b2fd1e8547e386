from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that refuses keys it does not declare.

    A misspelled field ("frist_name") silently ignored is a lost edit; here it is a 400 naming it.
    Read-only fields are not accepted as input either.
    """

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [serializers.ErrorDetail("Unknown field.", code="unknown_field")]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class StrictInputModelSerializer(StrictInputSerializer, serializers.ModelSerializer):
    pass


def validated_input(serializer_class, data, **kwargs) -> dict:
    """Validate a request body with an input serializer; a ValidationError becomes a 400."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
