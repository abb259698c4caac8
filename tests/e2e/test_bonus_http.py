"""A campaign bonus over HTTP on a real server and anvil: residents' sessions recorded through the API,
a campaign finalized as Achieved, a wallet campaign manager's `POST /v1/staff/campaigns/{id}/distribute`
(computed from the mirror, the tree published, setCampaignBonus signed by the member and relayed), the
public tree and proof, and a resident's claim through the claim kind, paid once."""

from __future__ import annotations

from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from web3 import Web3

from ledger.deploy import Deployment
from ledger.merkle import StandardMerkleTree
from ledger.settings import Settings

from ..support import Resident, Server, error_of, wait_until
from .test_plogging_e2e import submit_signed, wait_final
from .test_staff_role_matrix import Deployer, StaffMember, invite, wait_roles

AREA = 41117


def _prepare_claim(server: Server, resident: Resident, campaign_id: int) -> Any:
    return server.client().post(
        "/v1/actions/prepare",
        json={"kind": "claim", "resident": resident.address, "payload": {"campaignId": campaign_id}},
    )


def test_a_managers_distribution_is_published_posted_and_claimed(
    server: Server, settings: Settings, deployment: Deployment
) -> None:
    client = server.client()
    r1, r2, outsider = Resident(), Resident(), Resident()
    ids = [submit_signed(client, r, trashGrams=grams)[2] for r, grams in ((r1, 850), (r1, 850), (r2, 850))]
    ids.append(submit_signed(client, outsider, areaCode=11000)[2])  # another area: no share
    assert all(wait_final(client, i)["status"] == "confirmed" for i in ids)

    deployer = Deployer(settings, deployment)
    w3 = Web3(Web3.HTTPProvider(settings.rpc))
    now = int(w3.eth.get_block("latest")["timestamp"])
    deployer.send("CommunityRewards", "createCampaign", now - 8 * 86_400, now - 1, 0, AREA, 1, b"\x02" * 32)
    rewards = w3.eth.contract(
        address=Web3.to_checksum_address(deployment.address("CommunityRewards")),
        abi=deployment.contracts["CommunityRewards"].abi,
    )
    cid = int(rewards.functions.campaignCount().call())
    deployer.send("CommunityRewards", "reportCampaignProgress", cid, 1)
    deployer.send("CommunityRewards", "finalizeCampaign", cid)
    wait_until(
        lambda: any(
            c["id"] == cid for c in client.get("/v1/campaigns?status=achieved&limit=200").json()["items"]
        ),
        20,
        "the achieved campaign in the mirror",
    )

    manager = StaffMember(server)
    invite(f"sqlite:///{server.data_dir / 'ledger.db'}", manager)
    deployer.grant("campaign_manager", manager.address)
    manager.sign_in()
    wait_roles(manager, {"campaign_manager"})
    refused = manager.request(
        "POST", f"/v1/staff/campaigns/{cid}/distribute", {"pool": 90, "rule": "lottery"}
    )
    assert refused.status_code == 422 and error_of(refused)["code"] == "bonus_rule", refused.text

    answer = manager.request("POST", f"/v1/staff/campaigns/{cid}/distribute", {"pool": 90})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # 1,700 g and 850 g of the campaign's metric (trash_grams): 60 and 30 points
    assert {c["resident"]: (c["contribution"], c["amount"]) for c in body["contributors"]} == {
        r1.address: (1_700, 60),
        r2.address: (850, 30),
    }
    assert body["rule"].startswith(f"esg-ledger/bonus-rule/1 pro-rata:trash_grams pool=90 campaign={cid} ")
    typed = body["typedData"]  # a wallet member signs their own call
    signature = Account.sign_message(encode_typed_data(full_message=typed), manager.account.key).signature
    sent = manager.request(
        "POST", "/v1/staff/actions", {"typedData": typed, "signature": signature.to_0x_hex()}
    )
    assert sent.status_code in (200, 202), sent.text
    assert wait_final(client, sent.json()["id"])["status"] == "confirmed"
    on_chain = rewards.functions.campaign(cid).call()
    assert ("0x" + bytes(on_chain[8]).hex(), on_chain[9]) == (body["root"], 90)

    tree = client.get(f"/v1/campaigns/{cid}/bonus-tree")
    assert tree.status_code == 200, tree.text
    published = tree.json()
    assert (published["root"], published["total"], published["rule"]) == (body["root"], 90, body["rule"])
    dump = published["tree"]
    assert dump["format"] == "standard-v1" and dump["tree"][0] == body["root"]
    leaf = client.get(f"/v1/campaigns/{cid}/bonus-tree/{r1.address}").json()
    assert leaf["amount"] == 60
    assert StandardMerkleTree.verify(body["root"], ("address", "uint256"), (r1.address, 60), leaf["proof"])
    missing = client.get(f"/v1/campaigns/{cid}/bonus-tree/{outsider.address}")
    assert missing.status_code == 404

    prepared = _prepare_claim(server, r1, cid)
    assert prepared.status_code == 200, prepared.text
    claim = prepared.json()["typedData"]
    assert claim["message"]["amount"] == 60
    accepted = client.post("/v1/actions", json={"typedData": claim, "signature": r1.sign(claim)})
    assert accepted.status_code == 202, accepted.text
    assert wait_final(client, accepted.json()["id"])["status"] == "confirmed"
    token = w3.eth.contract(
        address=Web3.to_checksum_address(deployment.address("ParticipationToken")),
        abi=deployment.contracts["ParticipationToken"].abi,
    )
    sessions_reward = 2 * (600 * 10 // 1000 + 850 * 5 // 100)
    assert token.functions.balanceOf(r1.address).call() == sessions_reward + 60
    again = _prepare_claim(server, r1, cid)
    assert again.status_code == 409 and "already claimed" in error_of(again)["message"], again.text
