"""Households (户) as relief and reconstruction both know them, and the public posting (公示) they go through.

- `household`: the household value — head and members (name, relation, ID number, special groups),
  phone, 一卡通 account (optional: a household may have none), address — validated, with the keyed
  hashes that match people across cases;
- `posting`: the 公示 step shared by relief cases and housing cases — dates that cannot be backdated,
  objections within the posting, the ≥ N days measured on the stated dates and on recorded time;
- `evidence`: references to evidence files (`sha256:<hex>` with type and name) and the three-party
  signatures of a payment or delivery without a card.
"""
