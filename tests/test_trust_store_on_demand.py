"""A scan result's trust stores are parsed only if a chain is verified against them again, and then verify as
sslyze's own stores do."""

from __future__ import annotations

import pytest
from cryptography.x509 import DNSName
from sslyze.plugins.certificate_info.trust_stores.trust_store import TrustStore

from scanner.engine.runtime import sslyze_runner
from scanner.engine.runtime.sslyze_compat import TrustStoreReadOnDemand
from tests.test_sslyze_runner import request_for


def deployment_of(lab, name: str):
    result = sslyze_runner.run_scan(request_for(lab, name))
    return result.scan_result.certificate_info.result.certificate_deployments[0]


@pytest.fixture
def stores_not_yet_made():
    # The stores are made once per process: a store another test already verified against is parsed already.
    sslyze_runner._trust_store.cache_clear()
    yield
    sslyze_runner._trust_store.cache_clear()


def test_a_result_read_from_the_scans_process_names_its_stores_without_parsing_them(lab, stores_not_yet_made):
    deployment = deployment_of(lab, "good")

    stores = [path_result.trust_store for path_result in deployment.path_validation_results]
    assert {store.name for store in stores} >= {"Mozilla", "Apple", "Supplied CA file"}
    assert all(isinstance(store, TrustStoreReadOnDemand) for store in stores)
    assert not any("_x509_store" in vars(store) for store in stores)


def test_each_store_is_one_object_per_process_whatever_the_number_of_results(lab, stores_not_yet_made):
    first, second = deployment_of(lab, "good"), deployment_of(lab, "legacy")

    first_stores = {result.trust_store.name: result.trust_store for result in first.path_validation_results}
    second_stores = {result.trust_store.name: result.trust_store for result in second.path_validation_results}
    assert first_stores["Mozilla"] is second_stores["Mozilla"]


@pytest.mark.parametrize("case", ["good", "selfsigned", "nointermediate"])
def test_a_store_read_on_demand_verifies_a_chain_as_sslyzes_own_store(lab, stores_not_yet_made, case):
    deployment = deployment_of(lab, case)
    chain = deployment.received_certificate_chain_as_pem
    subject = DNSName(lab.case(case).hostname)

    for path_result in deployment.path_validation_results:
        store = path_result.trust_store
        eager = TrustStore(store.path, store.name, store.version, store.ev_oids)
        ours, sslyzes = store.verify_certificate_chain(chain, subject), eager.verify_certificate_chain(chain, subject)

        assert ours.verified_certificate_chain == sslyzes.verified_certificate_chain, store.name
        assert ours.validation_error == sslyzes.validation_error, store.name
        assert ours.trust_store is store
    assert "_x509_store" in vars(store)  # read once asked to verify
