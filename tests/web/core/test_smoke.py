from tests.conftest import login


def test_admin_sees_clients_list(client, make_client, make_user):
    make_client("ACME", name="Acme 顶点")
    admin = make_user("admin@example.com", "admin")
    response = login(client, admin).get("/clients/")
    assert response.status_code == 200
    assert "Acme 顶点" in response.text
