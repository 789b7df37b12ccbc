"""The demo cast: the people `/dev/login` lists and the demo data is written about.

Ids are stable so that seeding twice finds the same people, and prefixed so that they never collide
with ids a real identity provider issues into the same development database.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DemoUser:
    id: str
    name: str
    email: str
    role: str  # "admin" or "member" (technicians and customers are ordinary members in the API)
    title: str  # what the person is in the product, for people choosing whom to sign in as

    def out(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "email": self.email, "role": self.role, "title": self.title}


SARA = DemoUser("demo-sara", "Sara Al Mansouri", "sara.almansouri@example.com", "member", "Customer")
JAMES = DemoUser("demo-james", "James Whitfield", "james.whitfield@example.com", "member", "Customer")
OMAR = DemoUser("demo-omar", "Omar Haddad", "omar.haddad@example.com", "member", "Technician")
PRIYA = DemoUser("demo-priya", "Priya Nair", "priya.nair@example.com", "member", "Technician")
LINA = DemoUser("demo-lina", "Lina Farouk", "lina.farouk@example.com", "admin", "Admin")

CAST: tuple[DemoUser, ...] = (SARA, JAMES, OMAR, PRIYA, LINA)
BY_ID = {user.id: user for user in CAST}
