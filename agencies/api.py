"""Read-only API of the configuration: agencies, categories (with routing), kecamatan."""

from rest_framework import serializers, viewsets

from .models import Agency, Category, Kecamatan


class AgencySerializer(serializers.ModelSerializer):
    class Meta:
        model = Agency
        fields = ["code", "name", "short_name", "response_target_seconds", "active"]


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
        fields = ["code", "name"]


class AgencyViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Agency.objects.all()
    serializer_class = AgencySerializer
    lookup_field = "code"
    pagination_class = None


class CategoryViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Category.objects.prefetch_related("default_agencies")
    serializer_class = CategorySerializer
    lookup_field = "code"
    pagination_class = None


class KecamatanViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Kecamatan.objects.all()
    serializer_class = KecamatanSerializer
    lookup_field = "code"
    pagination_class = None
