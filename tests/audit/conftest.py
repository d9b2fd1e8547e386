from tests.documents.conftest import local_storage  # noqa: F401 (the documents tests' fixture)
