"""Serializer fields of the input edge (SPEC §13), for every DRF door: strict strings and
aware dates, checked by core.validation as every other door checks them."""

from rest_framework import serializers

from .validation import (
    CONTROL_CHARACTERS,
    Errors,
    clean_aware_datetime,
    control_characters_message,
)


class Text(serializers.CharField):
    """A JSON string, nothing else: DRF's CharField would turn 3.5 or 12 into "3.5"/"12".
    Control characters are refused here, at the edge (SPEC §13), as every other door does."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        if CONTROL_CHARACTERS.search(data):
            raise serializers.ValidationError(control_characters_message(self.field_name))
        return super().to_internal_value(data)


class AwareDateTime(serializers.DateTimeField):
    """An ISO 8601 date and time with its zone, checked by the shared edge: an offset of
    +23:00, the year 9999 or 2026-02-30 is a 400 naming the field, never a 500."""

    def to_internal_value(self, value):
        errors = Errors()
        moment = clean_aware_datetime(errors, self.field_name, value)
        if moment is None:
            if self.field_name not in errors.by_field:
                self.fail("invalid", format="YYYY-MM-DDThh:mm:ss+07:00")
            raise serializers.ValidationError(errors.by_field[self.field_name][0].messages)
        return super().to_internal_value(moment)
