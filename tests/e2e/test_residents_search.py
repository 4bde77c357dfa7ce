"""Too long a search on the residents page: said at the field, what was typed kept (nothing cut by the browser)."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import assert_no_horizontal_scroll, screenshot, sign_in

TYPED = "Aleksandra" + "x" * 51  # 61 characters, one past the limit


@pytest.mark.parametrize("kind", ["phone", "tablet"])
def test_too_long_a_search_is_shown_at_the_field_with_what_was_typed(new_page, make_user, make_resident, kind):
    make_resident("Aleksandra")
    user = make_user("night", locale="en")
    page = new_page(kind, locale="en-GB")
    sign_in(page, user.username, PASSWORD)
    page.goto("/residents")
    box = page.locator("#q")
    box.fill(TYPED)  # as typed or pasted: the htmx search answers the results block
    error = page.locator("#q-error")
    error.wait_for()
    assert "60 characters" in error.inner_text()
    assert box.input_value() == TYPED  # the browser kept all of it (no maxlength)
    assert page.locator("#results strong", has_text="Aleksandra").count() == 0
    screenshot(page, f"residents-search-too-long-{kind}")
    # Sent without JavaScript (or reloaded): the whole page, the field marked.
    page.goto(f"/residents?q={TYPED}")
    assert page.locator("#q").get_attribute("aria-invalid") == "true"
    assert page.locator("#q").input_value() == TYPED
    assert_no_horizontal_scroll(page)
    screenshot(page, f"residents-search-too-long-page-{kind}")
    box = page.locator("#q")
    box.fill("Aleks")
    page.locator("#results strong", has_text="Aleksandra").wait_for()
    assert page.locator("#q-error").count() == 0
