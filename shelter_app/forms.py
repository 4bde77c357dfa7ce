"""The base of every form and the form fields shared by the domains: the form half of the input layer."""
from __future__ import annotations

from datetime import datetime

from flask import request
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto
from wtforms import (DateTimeLocalField, IntegerField, PasswordField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.validators import Length, ValidationError
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from .timeutil import NonexistentLocalTime, local_input_value, local_to_utc
from .validation import ID_MAX, INT_MAX, INT_MIN, has_bidi_controls, has_control_characters

# What a browser's <form> sends; anything else (JSON, plain text) is not a form the app rendered.
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# The longest text a field without its own Length takes.
TEXT_MAX = 10_000


class Form(FlaskForm):
    """The base of every form: what a person could not have typed is refused at its field (422), never a 500.

    Before any validator runs, files are taken out of the data (no field of the app takes a file: a file
    part is the error of the field it names) and a body that is not a form (JSON, plain text) is read as
    no data at all. After the field's own validators: control characters (newline and tab allowed in a
    TextAreaField), bidi controls in one-line text (names, aliases, codes), whole numbers a database
    INTEGER cannot hold, and text over TEXT_MAX where the field has no Length of its own.

    Text is never cut: fields render without `maxlength`, which makes a browser drop the end of what is
    pasted without a word; too long is the field's error, with what was typed shown again.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            if formdata is not _Auto or not form.is_submitted():
                return super().wrap_formdata(form, formdata)
            if request.mimetype and request.mimetype not in FORM_TYPES:
                form._not_a_form = True
                return None
            form._sent_files = set(request.files)
            return request.form or None

    def __init__(self, *args, **kwargs):
        self._not_a_form = False
        self._sent_files: set[str] = set()
        super().__init__(*args, **kwargs)
        for field in self:
            field.flags.__dict__.pop("maxlength", None)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self._not_a_form:
            self.form_errors.append(_("The form arrived in a format it is not sent in. Reload the page and "
                                      "send it again."))
            valid = False
        for field in self:
            for message in _refusals(field, self._sent_files):
                field.errors.append(message)
                valid = False
        if self._sent_files - {field.name for field in self}:
            self.form_errors.append(_("This form takes no files."))
            valid = False
        return valid


def _refusals(field, sent_files: set[str]):
    """The errors of field that no field type of its own reports."""
    if field.name in sent_files:
        yield _("Type the text here: a file cannot be sent in its place.")
        return
    multiline = isinstance(field, TextAreaField)
    one_line_text = isinstance(field, StringField) and not isinstance(field, (TextAreaField, PasswordField))
    raw = [value for value in (field.raw_data or ()) if isinstance(value, str)]
    if any(has_control_characters(value, multiline=multiline) for value in raw):
        yield _("Remove the control characters (invisible characters such as NUL or ESC).")
    if one_line_text and any(has_bidi_controls(value) for value in raw):
        yield _("Remove the invisible text-direction characters: they make text look like something else.")
    if (isinstance(field, StringField) and isinstance(field.data, str) and len(field.data) > TEXT_MAX
            and not any(isinstance(v, Length) for v in field.validators)):
        yield _("Use at most %(n)d characters.", n=TEXT_MAX)
    if (isinstance(field, IntegerField) and not isinstance(field, IdField) and isinstance(field.data, int)
            and not INT_MIN <= field.data <= INT_MAX):
        yield _("This number is too large.") if field.data > 0 else _("This number is too small.")


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


def _id(value) -> int:
    number = int(value)
    if not 1 <= number <= ID_MAX:
        raise ValueError("not an id")
    return number


def optional_int(value) -> int | None:
    """Coerce for a select of ids whose first option is an empty "choose" entry; a number that cannot be
    an id (2^31, −1) is the field's error."""
    if value in ("", None):
        return None
    return _id(value)


def id_or_word(value) -> str:
    """Coerce for a select of ids and words (a room, or "here"): kept as text, but a number must be an id."""
    text = str(value)
    try:
        int(text)
    except ValueError:
        return text
    _id(text)
    return text


class IdField(IntegerField):
    """A row's id the page sends back in a hidden input: 1 … 2^31−1, else the field's error."""

    widget = HiddenInput()

    def pre_validate(self, form):
        if self.data is not None and self.row_id() is None:
            raise ValidationError(_("This names nothing. Reload the page and try again."))

    def row_id(self) -> int | None:
        """The id sent, if it can name a row (before validation too); None otherwise."""
        return self.data if isinstance(self.data, int) and 1 <= self.data <= ID_MAX else None


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
