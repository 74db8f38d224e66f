"""The menu and the breadcrumbs in the seed article's words: System Management › General ›
Project Settings, System Management › Logs › Tracking Log, for each role what it may open."""
import re

import pytest

from optintel.models import Role


def words(html):
    """The texts of an HTML fragment, in order."""
    return [w.strip() for w in re.findall(r">([^<>]+)<", html) if w.strip()]


def menu(page):
    return words(re.search(r'<nav class="menu" id="main-menu".*?</nav>', page, re.S).group(0))


def breadcrumbs(page):
    found = re.search(r'<nav class="breadcrumbs" aria-label="Breadcrumb">(.*?)</nav>', page, re.S)
    return words(found.group(1)) if found else []


MENUS = {
    Role.GLOBAL_ADMIN: ["Campaigns", "Email Campaigns", "SMS Campaigns",
                        "List Management", "Email Opt-out Lists", "Phone Number Opt-Out Lists",
                        "Mailers", "Mailers",
                        "System Management", "General", "Project Settings", "Logs",
                        "Tracking Log", "Users", "API Keys"],
    Role.CAMPAIGN_MANAGER: ["Campaigns", "Email Campaigns", "SMS Campaigns",
                            "System Management", "Logs", "Tracking Log"],
    Role.LIST_OWNER: ["List Management", "Email Opt-out Lists", "Phone Number Opt-Out Lists",
                      "System Management", "Logs", "Tracking Log"],
}


@pytest.mark.parametrize("role", MENUS, ids=str)
def test_each_role_sees_the_seeds_menu_of_what_it_may_open(web, make_user, role):
    page = web.login(make_user(role)).get("/").get_data(as_text=True)
    assert menu(page) == MENUS[role]
    assert breadcrumbs(page) == []  # the home page is above the menu


@pytest.mark.parametrize("path, trail", [
    ("/settings/opt-intel", ["System Management", "General", "Project Settings"]),
    ("/settings/opt-intel/tracking", ["System Management", "General", "Project Settings"]),
    ("/logs/", ["System Management", "Logs", "Tracking Log"]),
    ("/logs/test-runs", ["System Management", "Logs", "Tracking Log"]),
    ("/campaigns/phone/", ["Campaigns", "SMS Campaigns"]),
    ("/lists/email/", ["List Management", "Email Opt-out Lists"]),
    ("/users/", ["System Management", "Users"]),
])
def test_the_breadcrumbs_follow_the_menu(as_admin, path, trail):
    page = as_admin.get(path).get_data(as_text=True)
    assert breadcrumbs(page) == trail
    active = re.findall(r'<a href="([^"]+)" class="active" aria-current="page">([^<]+)</a>', page)
    assert [label for _, label in active] == [trail[-1]]
