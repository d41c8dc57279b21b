"""Delivery rules, one module each: pure functions of a note, its link's configuration
(:class:`~relay.core.config.Link`) and the draws, returning a decision the core applies.

=================  ==========================  =========  ====================================
module             rule                        direction  decides
=================  ==========================  =========  ====================================
``latency``        reading, travel, drafting   both       how long (a hold's delay too)
``order``          order                       both       when a note is ready, behind another
``pouch``          pouch                       outbound   when the courier leaves; how many
``loss``           loss                        outbound   whether a relayed note is lost
``duplication``    duplicate                   outbound   whether it is delivered twice
``distortion``     distort                     outbound   what a paraphrase changes
``scope``          scope                       outbound   returned, flagged or relayed
``receipts``       receipts                    inbound    what the sender is told
``expiry``         expiry                      inbound    when an offer lapses
``sittings``       sittings                    exercise   whether the mediator may set out
``holds``          hold                        inbound    automatic holds; hold conditions
=================  ==========================  =========  ====================================

A rule that draws takes the :class:`~relay.core.draws.Recorder`, which keeps each draw until
the core writes it into the event the decision belongs to. ``docs/delivery-rules.md``, "Adding
a rule", walks through adding one.
"""
