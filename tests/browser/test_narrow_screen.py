"""On a phone (390×844) the menu folds behind the Menu button, and the page does not scroll
sideways even with the menu open; on a laptop the menu is always there."""
from playwright.sync_api import expect


def test_the_menu_folds_behind_its_button_on_a_phone(page, login, admin):
    login(admin)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/logs/")
    menu, button = page.locator("#main-menu"), page.get_by_role("button", name="Menu")
    expect(menu).to_be_hidden()
    expect(button).to_have_attribute("aria-expanded", "false")
    button.click()
    expect(menu).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    menu.get_by_role("link", name="Project Settings").click()
    page.wait_for_url("**/settings/opt-intel/**")
    expect(page.locator(".breadcrumbs li")).to_have_text(["System Management", "General",
                                                          "Project Settings"])
    expect(menu).to_be_hidden()  # a new page starts with the menu folded

    page.set_viewport_size({"width": 1366, "height": 900})
    expect(menu).to_be_visible()
    expect(button).to_be_hidden()
