def test_patient_list_answers_for_its_clinic(api, doctor):
    from tests.factories import PatientFactory

    PatientFactory.create_batch(3, tenant=doctor.tenant)
    response = api(doctor).get("/api/v1/patients")
    assert response.status_code == 200
    assert response.json()["total"] == 3
