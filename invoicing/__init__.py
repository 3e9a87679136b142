"""Invoicing (发票): the tax documents issued for money received, a domain beside billing.

An invoice is not a bill or a receipt. It is issued once through the tax platform, carries the
platform's 20-digit number, splits every amount into net and VAT to the fen, and is never edited: a
refund or a reversal of its payment is answered by a red-letter invoice (红字发票) that takes back part
or all of it. Billing tells invoicing when a payment is booked or given back; everything else here is
invoicing's own: the tax configuration, buyers and their titles, the issuing lifecycle, the provider,
the XML and the PDF.
"""
