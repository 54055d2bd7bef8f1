# ruff: noqa: RUF001 - Django's own msgids use typographic quotes.
"""Django admin strings that Django's own Khmer catalogue leaves untranslated.

Listed here so `makemessages` puts them in our catalogue (locale/km), which
takes precedence over Django's. Korean needs none: Django's is complete, and
an empty entry in ours falls back to it. Nothing imports this module.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

ADMIN_STRINGS = [
    gettext_noop("Action:"),
    gettext_noop("Add another %(verbose_name)s"),
    gettext_noop("None"),
    gettext_noop("Hold down “Control”, or “Command” on a Mac, to select more than one."),
    gettext_noop("The {name} “{obj}” was added successfully."),
    gettext_noop("You may edit it again below."),
    gettext_noop("The {name} “{obj}” was changed successfully. You may edit it again below."),
    gettext_noop("The {name} “{obj}” was changed successfully."),
    gettext_noop(
        "Items must be selected in order to perform actions on them. No items have been changed."
    ),
    gettext_noop("No action selected."),
    gettext_noop("0 of %(cnt)s selected"),
    gettext_noop("We’re sorry, but the requested page could not be found."),
    gettext_noop("Run the selected action"),
    gettext_noop("Clear selection"),
    gettext_noop("View"),
    gettext_noop("View site"),
    gettext_noop("Show counts"),
    gettext_noop("Hide counts"),
    gettext_noop("Clear all filters"),
    gettext_noop("Delete?"),
    gettext_noop("Summary"),
    gettext_noop("Recent actions"),
    gettext_noop("Start typing to filter…"),
    gettext_noop("Search"),
    gettext_noop("Save and view"),
    gettext_noop("Close"),
    gettext_noop("Select %s to view"),
    gettext_noop("Skip to main content"),
    gettext_noop("Toggle navigation"),
    gettext_noop("Sidebar"),
    gettext_noop("Breadcrumbs"),
    gettext_noop("Models in the %(name)s application"),
    gettext_noop("Added."),
    gettext_noop("Changed {fields}."),
    gettext_noop("Added {name} “{object}”."),
    gettext_noop("Changed {fields} for {name} “{object}”."),
    gettext_noop("Deleted {name} “{object}”."),
    gettext_noop(
        "This object doesn’t have a change history. It probably wasn’t added via this admin site."
    ),
    gettext_noop("Error:"),
    gettext_noop("Select all objects on this page for an action"),
    gettext_noop("Select this object for an action - {}"),
    gettext_noop("You don’t have permission to view or edit anything."),
    gettext_noop("Change %(name)s"),
    gettext_noop("Username:"),
    gettext_noop("Password:"),
    gettext_noop("Date/time"),
]

ADMIN_PLURALS = [
    ngettext_lazy("%(total_count)s selected", "All %(total_count)s selected", 1),
    ngettext_lazy("Please correct the error below.", "Please correct the errors below.", 1),
    ngettext_lazy("%(counter)s result", "%(counter)s results", 1),
    ngettext_lazy(
        "%(count)s %(name)s was changed successfully.",
        "%(count)s %(name)s were changed successfully.",
        1,
    ),
]
