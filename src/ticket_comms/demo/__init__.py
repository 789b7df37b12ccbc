"""Development only: the demo cast, the dev sign-in API and the demo data that makes `make run` alive."""
