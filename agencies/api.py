"""Read-only API of the configuration: agencies, categories (with routing), kecamatan."""

from rest_framework import serializers, viewsets

from .models import Agency, Category, Kecamatan


class AgencySerializer(serializers.ModelSerializer):
    class Meta:
        model = Agency
        fields = ["code", "name", "short_name", "response_target_seconds", "active", "phone"]


class CategorySerializer(serializers.ModelSerializer):
    agencies = serializers.SlugRelatedField(
        source="default_agencies", slug_field="code", many=True, read_only=True
    )

    class Meta:
        model = Category
        fields = ["code", "name", "default_priority", "agencies", "active"]


class KecamatanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Kecamatan
        fields = ["code", "name", "latitude", "longitude"]


class CodeLookup:
    """Objects are found by their code; anything that is not a code never reaches SQL."""

    lookup_field = "code"
    lookup_value_regex = r"[-\w]{1,64}"
    pagination_class = None


class AgencyViewSet(CodeLookup, viewsets.ReadOnlyModelViewSet):
    queryset = Agency.objects.all()
    serializer_class = AgencySerializer


class CategoryViewSet(CodeLookup, viewsets.ReadOnlyModelViewSet):
    queryset = Category.objects.prefetch_related("default_agencies")
    serializer_class = CategorySerializer


class KecamatanViewSet(CodeLookup, viewsets.ReadOnlyModelViewSet):
    queryset = Kecamatan.objects.all()
    serializer_class = KecamatanSerializer
