"""`manage.py grant_app_role ROLE`: give the application's database role its
privileges, as the owner, after every `migrate` (ops/roles.py says which)."""

from django.core.management.base import BaseCommand, CommandError

from ops.roles import RoleProblem, grant_app_role


class Command(BaseCommand):
    help = (
        "Run as the owner role after migrate: grant ROLE plain DML on every table but "
        "append-only access to the audit tables, and the same on tables created later."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", help="The role web, worker and beat connect as.")

    def handle(self, *args, role: str, **options):
        try:
            grant_app_role(role)
        except RoleProblem as problem:
            raise CommandError(f"Refusing to grant: {problem}.") from problem
        self.stdout.write(
            self.style.SUCCESS(f"{role}: DML on every table, append-only on the audit tables.")
        )
