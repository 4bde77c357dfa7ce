"""Form fields shared by the domains."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from .timeutil import NonexistentLocalTime, local_input_value, local_to_utc


# Every date the app takes lies in these years: anything else is a typo (and year 1 breaks time zones).
FIRST_YEAR = 2000
LAST_YEAR = 2100


class LocalDateTimeField(DateTimeLocalField):
    """An <input type="datetime-local"> read as Warsaw wall-clock time; .utc is the UTC value."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("format", ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"])
        super().__init__(label, validators, **kwargs)

    @property
    def utc(self) -> datetime | None:
        return local_to_utc(self.data) if self.data else None

    def pre_validate(self, form):
        if self.data is not None:
            if not (FIRST_YEAR <= self.data.year <= LAST_YEAR):
                raise ValidationError(_l("Enter a date between the years %(a)d and %(b)d.", a=FIRST_YEAR, b=LAST_YEAR))
            try:
                local_to_utc(self.data)
            except NonexistentLocalTime:
                raise ValidationError(_l("This time does not exist: the clocks jump forward then.")) from None

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime("%Y-%m-%dT%H:%M") if self.data else ""

    def set_utc(self, value: datetime | None) -> None:
        """Prefill with a UTC moment, shown in local time."""
        self.data = datetime.strptime(local_input_value(value), "%Y-%m-%dT%H:%M") if value else None


def optional_int(value) -> int | None:
    """Coerce for a select whose first option is an empty "choose" entry."""
    if value in ("", None):
        return None
    return int(value)


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
