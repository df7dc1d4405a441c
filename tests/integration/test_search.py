"""The knowledge base and "similar past issues", ranked by SQLite FTS5 and PostgreSQL full-text search.

Every test runs on both databases. The corpus is a made-up but realistic hypercare log of a Dynamics 365
Finance/SCM and Business Central go-live: 48 kinds of problem ("families"), each reported two or three
times in different words, most resolved with notes, some still open, a few with a runbook. New reports
are then phrased the way a different person would (other words, synonyms, another order) and the
past issue or runbook of the right family must be among the top three suggestions.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, insert, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.domain.model import (
    Area,
    Category,
    HandledBy,
    NewRunbook,
    Person,
    Resolution,
    ResolutionType,
    Status,
)
from storage import migrate
from storage.db import create_session_factory
from storage.models import IssueRow, RunbookRow, WarRoomRow
from storage.repositories.fulltext import search_terms
from storage.repositories.issues import IssueRepository
from storage.repositories.runbooks import RunbookRepository
from storage.repositories.similar import SimilarityRepository, summarize

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
OWNER = Person(aad_object_id="aad-omar", name="Omar Haddad")
RESOLVER = Person(aad_object_id="aad-lena", name="Lena Berg")


@dataclass(frozen=True)
class Family:
    key: str
    area: Area
    category: Category
    # (title, description) of each time it was reported, in the reporter's words.
    reports: tuple[tuple[str, str], ...]
    fix: str
    runbook: tuple[str, str, str] | None = None  # title, symptoms, steps
    # Never resolved: its issues must never be suggested.
    unresolved: bool = False


AP, AR, CASH, GL, TAX = Area.ACCOUNTS_PAYABLE, Area.ACCOUNTS_RECEIVABLE, Area.CASH_BANK, Area.GENERAL_LEDGER, Area.TAX
SALES, WH, INV, PROD, PROC = Area.SALES, Area.WAREHOUSE, Area.INVENTORY, Area.PRODUCTION, Area.PROCUREMENT
REP, PLAT, FA, PROJ, HR = Area.REPORTING, Area.PLATFORM, Area.FIXED_ASSETS, Area.PROJECT, Area.HR_PAYROLL
CONF, ACC, DEF, PERF, DATA, INTG = (
    Category.CONFIGURATION, Category.ACCESS, Category.DEFECT, Category.PERFORMANCE, Category.DATA, Category.INTEGRATION,
)

FAMILIES: tuple[Family, ...] = (
    Family(
        "ap_posting_profile", AP, CONF,
        (
            ("Vendor invoices fail to post in USMF",
             "Posting a vendor invoice from the pending invoices list gives 'account number for transaction type "
             "Vendor balance does not exist'. All invoices for vendor group INTERCO are affected."),
            ("AP can't post invoices for the new vendor group",
             "Invoice journal posting stops with an error: summary account missing on vendor posting profile GEN "
             "for group 40-OVERSEAS."),
            ("Posting profile error when posting vendor invoice",
             "Pending vendor invoice cannot be posted, the error mentions the vendor posting profile and a ledger account."),
        ),
        "Vendor posting profile GEN had no summary account for the new vendor group. Added the group with summary "
        "account 200100 in Accounts payable > Setup > Vendor posting profiles and reposted the invoices.",
        runbook=(
            "Vendor invoice will not post: vendor posting profile",
            "Vendor invoice or invoice journal will not post; the error names the vendor balance / summary account "
            "or the vendor posting profile.",
            "1. Accounts payable > Setup > Vendor posting profiles. 2. Open the profile of the legal entity (GEN). "
            "3. Add a line for the vendor group with its summary account. 4. Repost the pending invoices.",
        ),
    ),
    Family(
        "ar_posting_profile", AR, CONF,
        (
            ("Free text invoice won't post for customer group EXPORT",
             "Posting the free text invoice says the account for customer balance is not set up in the posting profile."),
            ("Customer invoice posting error in DEMF",
             "Sales invoice update fails: summary account missing on the customer posting profile."),
            ("AR posting profile missing for migrated customers",
             "New customers created by the migration belong to group 90, which has no customer posting profile; "
             "invoicing is blocked."),
        ),
        "Customer posting profile GEN extended with customer groups EXPORT and 90, summary account 130100. "
        "Invoices posted afterwards.",
    ),
    Family(
        "vendor_payment_proposal", AP, CONF,
        (
            ("Payment proposal returns no invoices",
             "Running the vendor payment proposal in the payment journal brings back nothing although invoices "
             "are due this week."),
            ("Vendor payment run missing open invoices",
             "Weekly payment run: the proposal skips approved vendor invoices for EUR vendors."),
            ("Create payment proposal is empty",
             "Payment journal > Payment proposal > Create payment proposal finds zero lines for the due date."),
        ),
        "The invoices had method of payment CHECK while the proposal filtered on ELEC, and the due date criterion "
        "was 'Cash discount date'. Corrected the method of payment on the vendors and reran the proposal by due date.",
    ),
    Family(
        "bank_account_inactive", CASH, CONF,
        (
            ("Payment journal won't post: bank account inactive",
             "Posting the vendor payment journal fails: bank account USMF OPER is inactive on the payment date."),
            ("Cannot post payments, error about bank account status",
             "Payment journal posting is blocked by a bank account validation error since the bank accounts were migrated."),
            ("Payments fail to post after bank migration",
             "Any payment journal using the operating bank account errors out on posting."),
        ),
        "The migrated bank account got status Inactive from the data entity default. Set it to Active in Cash and "
        "bank management > Bank accounts, cleared the inactive-from date and reposted the journal.",
    ),
    Family(
        "bank_statement_import", CASH, INTG,
        (
            ("Bank statement import fails",
             "Importing the BAI2 bank statement in Bank statements gives a 'format mapping not found' error."),
            ("Cannot import camt.053 statement from Deutsche Bank",
             "Advanced bank reconciliation import errors out on the camt.053 file."),
            ("Electronic bank statement upload error",
             "Uploading the daily statement file fails at the electronic reporting import step."),
        ),
        "The statement format on the bank account pointed to an ER configuration that had not been imported. "
        "Imported the ISO20022 camt.053 and BAI2 configurations from the global repository and set the format.",
        runbook=(
            "Bank statement file cannot be imported",
            "Importing a bank statement (BAI2, camt.053, MT940) fails with format mapping or electronic reporting errors.",
            "1. Check the statement format on the bank account. 2. Import the matching ER configuration from the "
            "global repository. 3. Set the import format in Bank statement format. 4. Import the file again.",
        ),
    ),
    Family(
        "bank_rec_matching", CASH, CONF,
        (
            ("Bank reconciliation does not match transactions",
             "Run matching rules on the bank reconciliation worksheet matches nothing; all statement lines stay unmatched."),
            ("Reconciliation worksheet auto-match not working",
             "Matching rules ignore transactions where the amount is the same but the document number differs."),
            ("Month-end bank rec: hundreds of unmatched lines",
             "Month-end bank reconciliation leaves every line open; the matching rule set does not seem to run."),
        ),
        "The matching rule required an exact document number. Changed it to amount plus date within 3 days and "
        "added it to the matching rule set; the rerun matched 95% of the lines.",
    ),
    Family(
        "sales_trade_agreement", SALES, CONF,
        (
            ("Sales order price shows zero",
             "New sales order lines for item A0001 come in with unit price 0.00 instead of the list price."),
            ("Prices not defaulting on sales orders",
             "Since the price update, sales order lines do not pick up the customer's price from trade agreements."),
            ("Wrong sales price on order lines",
             "Order entry shows the old base price; the new price list loaded last week is ignored."),
        ),
        "The trade agreement journal with the new prices was created but never posted. Posted the price/discount "
        "agreement journal and checked 'Find next' on the price group; order lines now get the right price.",
        runbook=(
            "Sales prices missing or outdated on order lines",
            "Sales order lines get price zero or an old price after a price list was loaded.",
            "1. Sales and marketing > Prices and discounts > Trade agreement journals. 2. Find the unposted journal "
            "with the new prices. 3. Validate and post it. 4. Recalculate prices on the open order lines.",
        ),
    ),
    Family(
        "sales_line_discount", SALES, CONF,
        (
            ("Customer discount not applied on sales lines",
             "The 5% line discount for key accounts is missing on sales orders created today."),
            ("Discount missing for key accounts",
             "Sales orders for customer group KEY do not show the agreed line discount."),
            ("Multiline discount not calculated",
             "Multiline discount in the sales order totals is zero."),
        ),
        "The customers were not in the line discount group. Assigned line discount group KEYACC in the customers' "
        "sales order defaults and activated line discounts in Accounts receivable parameters > Prices.",
    ),
    Family(
        "wave_no_work", WH, CONF,
        (
            ("Wave processing creates no work",
             "Releasing orders to the warehouse: the wave processes but no picking work is created for site 2."),
            ("Outbound wave stuck, no pick work",
             "Shipments get added to the wave but the wave ends with status Held and no work lines."),
            ("Release to warehouse fails with location directive error",
             "Error 'no location directive found' when processing the wave for sales orders."),
        ),
        "The location directive for sales order pick work had no line for warehouse 24 after the warehouse split. "
        "Added the location directive line and action, then reprocessed the wave.",
        runbook=(
            "Wave processed but no warehouse work created",
            "Outbound wave ends Held or Processed with no pick work; 'no location directive found'.",
            "1. Warehouse management > Setup > Location directives, work order type Sales orders. 2. Check that the "
            "warehouse has a directive line and a location action. 3. Add it. 4. Reprocess the wave.",
        ),
    ),
    Family(
        "wma_user", WH, ACC,
        (
            ("Warehouse mobile app: user ID not valid",
             "Handheld scanners show 'the user ID is not valid' in the Warehouse Management mobile app."),
            ("Scanner login fails for new pickers",
             "New warehouse workers can't sign on to the handheld devices."),
            ("WMA does not accept worker",
             "Mobile device user account rejected for warehouse 51."),
        ),
        "Mobile device user accounts were missing for the new workers. Created warehouse worker records with a "
        "user ID and default warehouse in Warehouse management > Setup > Worker; handheld sign-in works.",
    ),
    Family(
        "mrp_no_planned_orders", PROD, CONF,
        (
            ("Master planning run doesn't create planned orders",
             "MRP finished but there are no planned purchase orders for raw materials even though on-hand is negative."),
            ("No planned orders after MRP",
             "Master scheduling results in zero planned orders for items in coverage group MINMAX."),
            ("Planning run ignores demand",
             "Sales demand isn't picked up by master planning; the requirement profile shows nothing."),
        ),
        "Items had no coverage group after data migration and the default coverage group was empty in master "
        "planning parameters. Assigned coverage group REQ to the released products and reran master planning.",
    ),
    Family(
        "mrp_slow", PROD, PERF,
        (
            ("Master planning takes 6 hours",
             "The nightly MRP run doesn't finish before the morning shift."),
            ("MRP batch very slow",
             "The master planning batch job runs very long since the data load."),
            ("Planning run times out",
             "Master planning ends with a timeout after 5 hours."),
        ),
        "Switched to Planning Optimization, 8 threads with helper tasks, and cut the time fence from 365 to 120 "
        "days. The run takes 35 minutes now.",
    ),
    Family(
        "pbi_embedded_blank", REP, CONF,
        (
            ("Power BI workspace shows no data",
             "The embedded analytical workspace for Financial performance is empty for all legal entities."),
            ("Embedded Power BI reports blank",
             "Analytics tiles inside the application show 'no data'."),
            ("Financial analytics dashboard empty",
             "Reports under Analytical workspaces have no figures."),
        ),
        "The entity store aggregate measurements had never been refreshed. Enabled automatic refresh for the "
        "aggregate measurements in System administration > Entity store and ran a full refresh.",
    ),
    Family(
        "pbi_gateway_credentials", REP, INTG,
        (
            ("Power BI dataset refresh failed",
             "Scheduled refresh of the Sales dataset fails every night with a credentials error."),
            ("Sales KPI report not refreshing",
             "The sales KPI report in the Power BI service still shows last Tuesday's numbers."),
            ("Gateway refresh error on finance report",
             "The on-premises data gateway reports invalid credentials for the data source."),
        ),
        "The service account password had been rotated. Updated the data source credentials on the on-premises "
        "gateway and in the dataset settings; the scheduled refresh succeeds again.",
    ),
    Family(
        "mfa_block", PLAT, ACC,
        (
            ("Users blocked at the MFA prompt",
             "Warehouse supervisors can't log in; the Microsoft Authenticator prompt never arrives."),
            ("Sign-in loop with multi-factor authentication",
             "Login keeps looping back to the MFA screen for people on shared devices."),
            ("Conditional access blocks login",
             "AADSTS53003 access has been blocked by conditional access policies when signing into Finance and Operations."),
        ),
        "The conditional access policy required compliant devices and the shared floor devices are not enrolled. "
        "Security added the shared devices group to the exclusions and registered MFA methods for the supervisors.",
        runbook=(
            "Sign-in blocked by MFA or conditional access",
            "Login fails or loops at the multi-factor authentication prompt; AADSTS53003 or AADSTS50076.",
            "1. Look up the sign-in log in Entra ID for the user. 2. Check which conditional access policy failed. "
            "3. Register the user's MFA method or exclude the shared device group. 4. Ask the user to sign in again.",
        ),
    ),
    Family(
        "user_not_enabled", PLAT, ACC,
        (
            ("User not authorized to access Finance",
             "A new starter gets 'You are not authorized to login with your current credentials' when opening Finance."),
            ("New employees can't access the system",
             "Accounts created in Entra ID last week are not recognised by the ERP."),
            ("Access denied for transferred employee",
             "The user record was disabled after the employee moved department."),
        ),
        "The users had not been imported. Imported them from Entra ID in System administration > Users > Import "
        "users, enabled the accounts and assigned security roles.",
    ),
    Family(
        "number_seq_exhausted", GL, CONF,
        (
            ("Number sequence reached its largest value",
             "Cannot create sales orders: number sequence SO-USMF has reached its largest value 9999."),
            ("Sales order numbering exhausted",
             "Order creation fails because the sequence ran out of numbers."),
            ("Voucher number sequence exceeded",
             "General journal posting error: number sequence GJ has been exceeded."),
        ),
        "Raised the Largest value of the number sequence to 999999 and widened the format segment; existing "
        "numbers are unaffected.",
        runbook=(
            "Number sequence has run out",
            "Creating orders or vouchers fails: the number sequence has reached its largest value.",
            "1. Organization administration > Number sequences. 2. Open the sequence named in the error. "
            "3. Raise Largest and widen the format's # segment. 4. Save and retry.",
        ),
    ),
    Family(
        "number_seq_reference", GL, CONF,
        (
            ("Number sequence not set up for voucher",
             "Posting with the new journal name fails: number sequence for Voucher is not set up."),
            ("Number sequence reference missing for transfer orders",
             "Creating a transfer order says reference Transfer order has no number sequence in the parameters."),
        ),
        "Generated the missing number sequences with Organization administration > Number sequences > Generate "
        "for the legal entity and linked the voucher series on the journal name.",
    ),
    Family(
        "tax_group_intersection", TAX, CONF,
        (
            ("Sales tax not calculated on invoices",
             "Customer invoices for service items show zero VAT."),
            ("VAT missing on sales orders",
             "Sales tax transactions are empty because the item sales tax group is blank on the order line."),
            ("Tax code not applied to purchase lines",
             "Purchase invoice lines don't pick any sales tax code; the intersection of the sales tax groups is empty."),
        ),
        "The item sales tax group was blank on the migrated service items and tax code STD20 was missing from it. "
        "Set the item sales tax group on the released products and added STD20 to both groups.",
        runbook=(
            "No sales tax on invoice lines",
            "Tax is zero or missing on sales or purchase lines; the sales tax group and item sales tax group have no "
            "common sales tax code.",
            "1. Check the sales tax group on the customer or vendor and the item sales tax group on the product. "
            "2. Add the sales tax code to both groups. 3. Recalculate tax on the open documents.",
        ),
    ),
    Family(
        "tax_rate_wrong", TAX, CONF,
        (
            ("Wrong VAT rate applied on invoices",
             "Invoices dated this month still use the old 19% rate instead of 20%."),
            ("Sales tax percentage incorrect",
             "The tax code value effective from 1 November is not picked up."),
        ),
        "The new sales tax code value overlapped with the old row. Corrected the values so the old rate ends on "
        "31 October and the new one starts on 1 November.",
    ),
    Family(
        "fa_depreciation", FA, DATA,
        (
            ("Depreciation proposal creates no lines",
             "Running the depreciation proposal in the fixed assets journal for October returns an empty journal."),
            ("Fixed asset depreciation not calculated",
             "The monthly depreciation run shows nothing for assets acquired before the migration."),
            ("No depreciation for migrated assets",
             "Assets loaded with opening balances are not depreciating."),
        ),
        "Migrated fixed asset books had Depreciation = No and no last depreciation date. Set both through the data "
        "entity and reran the proposal.",
    ),
    Family(
        "prod_order_release", PROD, DATA,
        (
            ("Production orders cannot be released",
             "Releasing the production order gives an error: route is not approved."),
            ("Can't start production order",
             "Estimation fails because the BOM version is not active."),
            ("Production order stuck in Created status",
             "The order for finished good FG-100 can't be estimated or scheduled."),
        ),
        "BOM and route versions were imported as not approved and not active. Approved and activated them, "
        "estimated and released the orders.",
    ),
    Family(
        "po_workflow_stuck", PROC, CONF,
        (
            ("Purchase order stuck in approval",
             "The PO workflow shows 'In review' for three days and no approver gets a notification."),
            ("Purchase requisition workflow not moving",
             "Requisitions submitted on Monday are still pending; workflow history says 'unable to find user'."),
            ("PO approval workflow error",
             "Workflow stopped: could not resolve the assigned approver."),
        ),
        "The workflow assigns by managerial hierarchy and the buyers' positions had no manager. Assigned managers "
        "in the position hierarchy and resumed the failed workflow instances.",
        runbook=(
            "Approval workflow stuck: approver cannot be resolved",
            "Purchase orders or requisitions stay In review; workflow history says the user or approver was not found.",
            "1. Open workflow history and read the failing step. 2. Check the position hierarchy for the submitter. "
            "3. Assign a manager or fix the participant. 4. Resume the workflow instance.",
        ),
    ),
    Family(
        "product_receipt_dimension", PROC, CONF,
        (
            ("Product receipt posting fails",
             "Posting the product receipt for PO 00045 errors: financial dimension CostCenter must be specified."),
            ("Goods receipt blocked by dimension validation",
             "Receiving the purchase order fails on account structure validation."),
        ),
        "The account structure required CostCenter on the accrual account. Added a default cost center on the "
        "procurement category and the vendor, and reposted the receipts.",
    ),
    Family(
        "gl_period_closed", GL, CONF,
        (
            ("Cannot post journal: period is closed",
             "General journal posting gives 'the period is not open' for posting date 31 October."),
            ("Posting blocked for last month",
             "Accruals for October can't be posted; ledger period status is On hold."),
        ),
        "Ledger calendar period October had been put On hold by mistake at month-end. Set the period status to "
        "Open for the module and restricted the page to the finance leads.",
    ),
    Family(
        "negative_inventory", INV, DATA,
        (
            ("Inventory cannot be physically negative",
             "Picking list registration stops: on-hand inventory would be negative for item 1000 at warehouse 11."),
            ("Negative on-hand error when shipping",
             "Shipping fails with not enough stock in the location even though we counted it."),
            ("On-hand quantity wrong after migration",
             "Migrated stock levels do not match the counted quantities."),
        ),
        "The opening balance counting journal for warehouse 11 had not been posted. Posted it with the migrated "
        "quantities; stock is available again.",
    ),
    Family(
        "bc_item_tracking", INV, DATA,
        (
            ("Item journal won't post, lot number required",
             "Business Central: posting the item journal gives 'You must assign a lot number for item 70000'."),
            ("BC item tracking error on purchase receipt",
             "Receiving a purchase order in Business Central fails because item tracking lines are missing."),
        ),
        "Item tracking code LOTALL requires lot numbers on inbound entries. Assigned the lot numbers in Item "
        "Tracking Lines and posted.",
    ),
    Family(
        "bc_posting_setup", GL, CONF,
        (
            ("BC: General Posting Setup does not exist",
             "Posting a sales invoice in Business Central: 'The General Posting Setup does not exist. Gen. Bus. "
             "Posting Group: EXPORT, Gen. Prod. Posting Group: SERVICES'."),
            ("Business Central sales invoice error about posting groups",
             "Business Central can't post the invoice, the combination of business and product posting group is missing."),
        ),
        "Added the EXPORT/SERVICES combination to General Posting Setup with sales and COGS accounts.",
    ),
    Family(
        "bc_permissions", PLAT, ACC,
        (
            ("Permission error in Business Central",
             "An accountant gets 'You do not have the following permissions on TableData G/L Entry: Read'."),
            ("BC finance staff can't open G/L entries",
             "New finance staff see a permissions message when opening general ledger entries."),
        ),
        "Assigned permission sets D365 BASIC and D365 ACC. PAYABLE through the Finance security group; they signed "
        "out and in again.",
    ),
    Family(
        "print_routing", PLAT, CONF,
        (
            ("Invoices not printing on network printer",
             "Printing sales invoices to the warehouse printer does nothing; jobs never arrive."),
            ("Document routing agent offline",
             "Packing slips aren't printed since the print server restart."),
            ("Printer not available in print destination",
             "The network printer is missing from the list in print destination settings."),
        ),
        "The Document Routing Agent service on the print server had stopped after patching. Restarted and "
        "re-registered the agent and activated the printer in Organization administration > Network printers.",
        runbook=(
            "Network printer prints nothing",
            "Documents sent to a network printer never come out, or the printer is not offered as print destination.",
            "1. On the print server check the Document Routing Agent service. 2. Start it and sign in again. "
            "3. Organization administration > Network printers: set the printer Active. 4. Print a test page.",
        ),
    ),
    Family(
        "invoice_layout", AR, CONF,
        (
            ("Customer invoice layout wrong",
             "The printed customer invoice uses the standard layout instead of our branded report."),
            ("Print management not using our custom report",
             "Invoice PDFs sent to customers have no logo."),
        ),
        "Print management for Customer invoice pointed at the standard report format. Set the custom report format "
        "in Form setup > Print management for the original record.",
    ),
    Family(
        "dmf_import", PLAT, DATA,
        (
            ("Data management import fails",
             "Importing customers with a data management project fails in staging with field conversion errors."),
            ("DMF package import errors",
             "Data entity import of vendors stops with mapping errors on the address fields."),
        ),
        "The source file's column order differed from the mapping. Regenerated the source mapping for the entity "
        "and set the date format of the source data format to ISO.",
    ),
    Family(
        "batch_stuck", PLAT, PERF,
        (
            ("Batch jobs stuck in executing",
             "Several batch jobs show status Executing since yesterday and nothing is processed."),
            ("Batch job queue not processing",
             "Scheduled jobs (invoice posting, email) are waiting; the batch server seems idle."),
        ),
        "The batch group had no batch server after the environment refresh. Assigned the AOS servers to the batch "
        "groups and requeued the orphaned tasks.",
    ),
    Family(
        "email_not_sent", PLAT, CONF,
        (
            ("Workflow notification emails not sent",
             "Approvers no longer receive emails for pending approvals."),
            ("No emails from the ERP",
             "Outgoing emails stay in email history with status Failed."),
        ),
        "The email distributor batch was not running and the SMTP password had expired. Updated the credentials in "
        "Email parameters and scheduled the email distributor batch.",
    ),
    Family(
        "dualwrite_sync", SALES, INTG,
        (
            ("Customers not syncing to Dataverse",
             "New customer accounts created in Finance never show up in Sales (CE)."),
            ("Dual-write map paused",
             "The dual-write Customers V3 map is in Paused state with errors."),
        ),
        "The Customers V3 dual-write map stopped on missing party numbers. Fixed the party records, resumed the map "
        "and ran initial sync for the failed rows.",
    ),
    Family(
        "form_slow", SALES, PERF,
        (
            ("All sales orders form very slow",
             "Opening All sales orders takes 40 seconds for the order desk."),
            ("Sales order list takes ages to open",
             "The order list page hangs almost a minute before loading."),
        ),
        "A shared personalization added a display method column and a filter on a non-indexed field. Removed the "
        "personalization and added an index; the form opens in 3 seconds.",
    ),
    Family(
        "intercompany", SALES, CONF,
        (
            ("Intercompany sales order not created",
             "A purchase order to USMF from USRT doesn't generate the intercompany sales order."),
            ("IC chain broken between legal entities",
             "Intercompany purchase orders don't create the matching sales orders."),
        ),
        "The intercompany trading relationship was not active for the vendor/customer pair. Activated it with its "
        "action policies and regenerated the intercompany sales order.",
    ),
    Family(
        "credit_hold", AR, DATA,
        (
            ("Sales orders on credit hold",
             "Orders for big customers are blocked by credit management even though they have paid."),
            ("Credit limit exceeded on confirmation",
             "Confirming sales orders gives a credit limit warning and the order goes on hold."),
        ),
        "Credit limits were migrated in cents (a factor 100 too low). Corrected the limits and released the orders "
        "from the credit management hold list.",
    ),
    Family(
        "exchange_rate_missing", GL, CONF,
        (
            ("Exchange rate missing for EUR",
             "Posting the foreign currency invoice fails: cannot find exchange rate for EUR to USD on the date."),
            ("Currency conversion error in journal",
             "Exchange rate type Default has no rates for yesterday."),
        ),
        "The exchange rate provider import had not run since Friday. Ran Import currency exchange rates and "
        "scheduled it daily.",
    ),
    Family(
        "price_tolerance", AP, CONF,
        (
            ("Invoice matching price variance exceeds tolerance",
             "Vendor invoice can't be posted: price match variance exceeds the tolerance of 2%."),
            ("Three-way match blocking invoices",
             "Many invoices are stopped by matching validation even when the price difference is a few cents."),
        ),
        "Price tolerance was 0% for the vendor group. Set charges and price tolerance to 2% in Accounts payable "
        "parameters > Invoice validation and reran matching.",
    ),
    Family(
        "transfer_order_ship", INV, CONF,
        (
            ("Transfer order shipment fails",
             "Shipping transfer order TO-0034 from warehouse 11 to 24 fails: transit warehouse not specified."),
            ("Can't ship transfer between warehouses",
             "Shipping the transfer order errors out about the transit warehouse."),
        ),
        "Warehouse 11 had no transit warehouse. Set it in Inventory management > Warehouses and shipped the order.",
    ),
    Family(
        "expense_receipts", HR, CONF,
        (
            ("Expense receipts not attaching",
             "Uploading a receipt to an expense report fails with 'document type not found'."),
            ("Can't attach receipts to expenses",
             "Employees can't add receipt pictures to expense lines."),
        ),
        "(still open)",
        unresolved=True,
    ),
    Family(
        "timesheet_category", PROJ, CONF,
        (
            ("Timesheets cannot be submitted",
             "Consultants get 'project category not valid for the worker' when submitting weekly timesheets."),
            ("Timesheet validation error on project category",
             "Timesheet lines fail validation on category for project PRJ-1001."),
        ),
        "The project categories were not in the hour category group of the workers' role. Added them to the "
        "project's category group and resubmitted.",
    ),
    Family(
        "standard_cost", INV, DATA,
        (
            ("Item cost shows zero in production",
             "Production orders cost 0 because standard costs were never activated."),
            ("Pending item prices not active",
             "The standard cost version has pending prices for all migrated items."),
        ),
        "Activated the pending standard costs in the costing version for the current site; estimates use them now.",
    ),
    Family(
        "customer_settlement", AR, CONF,
        (
            ("Customer payments not settling invoices",
             "Posted the customer payment journal but the invoices are still open on the customer account."),
            ("Open transactions remain after payment",
             "Payments from customers stay as credit balances instead of closing the invoices."),
        ),
        "Payments were posted without marking invoices. Used Settle open transactions to mark and settle them and "
        "enabled automatic settlement in Accounts receivable parameters.",
    ),
    Family(
        "payment_file", CASH, INTG,
        (
            ("Generate payment file fails",
             "Payment journal 'Generate payments' gives an ER error for method of payment ELEC."),
            ("SEPA credit transfer file not produced",
             "No XML payment file is created when generating payments."),
        ),
        "Method of payment ELEC had no export format. Selected the ISO20022 Credit transfer ER format on the method "
        "of payment and enabled generic electronic export.",
    ),
    Family(
        "lp_labels", WH, CONF,
        (
            ("License plate labels not printing",
             "Receiving work at warehouse 24 doesn't print LP labels any more."),
            ("No LP label after receiving",
             "Mobile receiving completes but the license plate label doesn't come out."),
        ),
        "The document routing layout for license plate labels had no label printer for warehouse 24. Added it in "
        "Warehouse management > Setup > Document routing.",
    ),
    Family(
        "security_role_menu", PLAT, ACC,
        (
            ("AP clerk can't see the vendor invoice menu",
             "The AP clerk doesn't see the vendor invoice menu items after the cut-over."),
            ("Menu items missing for buyers",
             "Buyers can't find the purchase order menus; access is restricted."),
        ),
        "The custom security roles were missing duties. Assigned the standard Accounts payable clerk and "
        "Purchasing agent roles and refreshed the security cache.",
    ),
)

# New reports, written the way someone else would say it, and the family whose fix answers them.
NEW_REPORTS: tuple[tuple[str, str], ...] = (
    ("Bills from suppliers in the new overseas group will not post, it says there is no summary account in the "
     "posting profile", "ap_posting_profile"),
    ("Can't log on to Finance — the Authenticator approval never shows up on my phone", "mfa_block"),
    ("After last night's planning run we got no suggested purchases for components although stock is below zero",
     "mrp_no_planned_orders"),
    ("Unit prices are 0 on new order lines for customer 1001, did the price list upload not work?",
     "sales_trade_agreement"),
    ("Picking work is not generated when we release the wave for site 2", "wave_no_work"),
    ("The camt statement file from our bank can't be imported", "bank_statement_import"),
    ("Matching rules leave every line of the bank statement unreconciled at month end", "bank_rec_matching"),
    ("No VAT on service invoices, sales tax code blank", "tax_group_intersection"),
    ("The sequence for sales order numbers has run out and new orders fail", "number_seq_exhausted"),
    ("Nightly refresh of the sales dataset in Power BI fails with a credentials error on the gateway",
     "pbi_gateway_credentials"),
    ("The analytical workspaces inside Finance show empty charts", "pbi_embedded_blank"),
    ("Handheld devices reject the new warehouse workers' user IDs", "wma_user"),
    ("PO approvals are stuck in review: workflow history can't find the approver", "po_workflow_stuck"),
    ("Packing slips and invoices never come out of the network printer", "print_routing"),
    ("Route not approved, so we can't release the production order", "prod_order_release"),
    ("Depreciation journal is empty for assets migrated with opening balances", "fa_depreciation"),
    ("Creating the supplier payment proposal picks up none of the due bills", "vendor_payment_proposal"),
    ("Posting payments fails because the operating bank account is flagged inactive", "bank_account_inactive"),
    ("October journal can't be posted, ledger period on hold", "gl_period_closed"),
    ("Business Central wants a lot number when I post the item journal", "bc_item_tracking"),
    ("Our purchase order to the sister company did not create an intercompany sales order", "intercompany"),
    ("EUR to USD rate not found when posting a foreign currency invoice", "exchange_rate_missing"),
    ("Client invoices print with the standard design, our logo layout is not used", "invoice_layout"),
    ("Batch tasks hang in Executing and nothing gets processed", "batch_stuck"),
    ("Nobody gets the approval emails any more", "email_not_sent"),
    ("The system doesn't recognise our new joiner's account, says not authorised", "user_not_enabled"),
    ("Stock goes negative when we register the picking list", "negative_inventory"),
    ("Customer is on credit hold even though they paid last week", "credit_hold"),
    ("Consultants can't send their weekly hours, category not valid", "timesheet_category"),
    ("The VAT percentage is still the old one on November invoices", "tax_rate_wrong"),
    ("Sales order page takes forever to load", "form_slow"),
    ("Customers created in Finance don't appear in CE", "dualwrite_sync"),
    ("Costs on production orders are zero, prices still pending", "standard_cost"),
    ("SEPA XML file not produced when we generate payments", "payment_file"),
    ("Price difference on invoice matching blocks posting, over tolerance", "price_tolerance"),
    ("Transit warehouse error when shipping a transfer", "transfer_order_ship"),
    ("LP labels don't print at receiving", "lp_labels"),
    ("Finance staff get permission denied reading G/L entries in BC", "bc_permissions"),
    ("Importing vendors via a data entity gives mapping errors", "dmf_import"),
    # The key word is shared only through a synonym: sign in/login, 2FA/MFA, client/customer, bill/invoice,
    # GST/VAT, dispatch/ship, supplier/vendor.
    ("Can't sign in, the 2FA code never arrives", "mfa_block"),
    ("Client bill shows no GST", "tax_group_intersection"),
    ("Dispatching the stock transfer fails, no in-transit warehouse", "transfer_order_ship"),
    ("Supplier bills won't go through, summary account missing", "ap_posting_profile"),
)

DECORATIONS = (
    ("", ""),
    ("Urgent: ", " Please help, 12 users affected."),
    ("Sev2 - ", " Happens in {company} since go-live."),
    ("Hi team, ", " Can someone look today?"),
)
COMPANIES = ("USMF", "DEMF", "GBSI", "USRT")
OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.REOPENED)


@dataclass
class Corpus:
    war_room_id: int
    family_of_issue: dict[int, str] = field(default_factory=dict)
    family_of_runbook: dict[int, str] = field(default_factory=dict)
    resolved: set[int] = field(default_factory=set)
    unresolved: set[int] = field(default_factory=set)

    def family(self, kind: str, id_: int) -> str:
        return (self.family_of_issue if kind == "issue" else self.family_of_runbook)[id_]


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with create_session_factory(engine)() as session:
        yield session


async def add_war_room(session: AsyncSession, key: str) -> int:
    # Only the columns every revision has: a test adds one at an older schema (the model has gained some since).
    statement = insert(WarRoomRow).values(key=key, last_issue_number=0, created_at=NOW).returning(WarRoomRow.id)
    return (await session.execute(statement)).scalar_one()


async def runbook_count(session: AsyncSession, war_room_id: int) -> int:
    statement = select(func.count()).select_from(RunbookRow).where(RunbookRow.war_room_id == war_room_id)
    return (await session.execute(statement)).scalar_one()


_form_ids = iter(range(1, 10**9))


def issue_row(war_room_id: int, number: int, title: str, description: str, *, status: Status, notes: str | None,
              area: Area | None = None, category: Category | None = None, created_at: datetime = NOW) -> IssueRow:
    resolved = status is Status.RESOLVED
    return IssueRow(
        war_room_id=war_room_id, number=number, title=title[:200], description=description, severity=2,
        category=category.value if category else None, area=area.value if area else None, company="USMF",
        affected_users=None, status=status.value, reporter_name="Priya Shah", reporter_aad_id="aad-priya",
        conversation_id=f"19:general@thread.tacv2;messageid={number}", source_form_id=f"form-{next(_form_ids)}",
        created_at=created_at, updated_at=created_at, version=1, save_as_runbook=False, reminder_seq=0,
        reminder_generation=0, ack_escalated=False,
        resolution_type=ResolutionType.CONFIGURATION_CHANGED.value if resolved else None,
        resolution_notes=notes if resolved else None,
        handled_by=HandledBy.PARTNER.value if resolved else None,
        resolved_by_name=RESOLVER.name if resolved else None,
        resolved_at=created_at + timedelta(hours=6) if resolved else None,
    )


async def load_corpus(session: AsyncSession, key: str = "team:hypercare", families: tuple[Family, ...] = FAMILIES) -> Corpus:
    """Each report once or twice (different greeting, company, user count), most resolved; runbooks linked."""
    corpus = Corpus(await add_war_room(session, key))
    rows: list[tuple[IssueRow, str]] = []
    number = 0
    for f_index, family in enumerate(families):
        for r_index, (title, description) in enumerate(family.reports):
            copies = 1 if (f_index + r_index) % 4 == 0 else 2
            for copy in range(copies):
                number += 1
                prefix, suffix = DECORATIONS[(number + copy) % len(DECORATIONS)]
                company = COMPANIES[number % len(COMPANIES)]
                # The second report of every third family was not solved yet.
                still_open = family.unresolved or (copy == 1 and f_index % 3 == 0)
                status = OPEN_STATUSES[number % len(OPEN_STATUSES)] if still_open else Status.RESOLVED
                notes = family.fix if copy == 0 else f"Same cause as the earlier report. {family.fix}"
                row = issue_row(
                    corpus.war_room_id, number, prefix + title, description + suffix.format(company=company),
                    status=status, notes=notes, area=family.area, category=family.category,
                    created_at=NOW - timedelta(days=30) + timedelta(hours=number),
                )
                rows.append((row, family.key))
    session.add_all(row for row, _ in rows)
    await session.flush()
    for row, key_ in rows:
        corpus.family_of_issue[row.id] = key_
        (corpus.resolved if row.status == Status.RESOLVED.value else corpus.unresolved).add(row.id)
    runbooks = RunbookRepository(session)
    for family in families:
        if family.runbook is None:
            continue
        title, symptoms, steps = family.runbook
        linked = tuple(i for i, k in corpus.family_of_issue.items() if k == family.key and i in corpus.resolved)[:2]
        runbook = await runbooks.add(
            NewRunbook(war_room_id=corpus.war_room_id, title=title, symptoms=symptoms, steps=steps, area=family.area,
                       category=family.category, owner=OWNER, issue_ids=linked, created_at=NOW)
        )
        corpus.family_of_runbook[runbook.id] = family.key
    await session.commit()
    return corpus


# --- ranking ------------------------------------------------------------------------------------


async def test_corpus_is_a_realistic_size(session: AsyncSession) -> None:
    corpus = await load_corpus(session)
    assert len(corpus.family_of_issue) >= 200
    assert len(corpus.resolved) >= 150 and len(corpus.unresolved) >= 20
    assert len(corpus.family_of_runbook) >= 9


async def test_new_reports_find_the_past_fix_in_the_top_three(session: AsyncSession) -> None:
    corpus = await load_corpus(session)
    similar = SimilarityRepository(session)
    assert len(NEW_REPORTS) >= 15
    misses, first = [], 0
    started = time.perf_counter()
    for report, expected in NEW_REPORTS:
        suggestions = await similar.similar(corpus.war_room_id, report)
        families = [corpus.family(s.kind, s.id) for s in suggestions]
        if expected not in families:
            misses.append((report, expected, [(s.kind, s.title, round(s.score, 3)) for s in suggestions]))
        first += bool(families) and families[0] == expected
        assert 1 <= len(suggestions) <= 3
        assert [s.score for s in suggestions] == sorted((s.score for s in suggestions), reverse=True)
    elapsed = time.perf_counter() - started
    assert misses == []
    # Not only in the top three: the best suggestion is the right one for nearly every report.
    assert first >= len(NEW_REPORTS) - 3, f"right family first for only {first} of {len(NEW_REPORTS)}"
    assert elapsed < 3.0, f"{len(NEW_REPORTS)} searches took {elapsed:.2f} s"


async def test_suggestions_carry_what_fixed_it(session: AsyncSession) -> None:
    corpus = await load_corpus(session)
    suggestions = await SimilarityRepository(session).similar(
        corpus.war_room_id, "supplier invoice posting fails, vendor posting profile has no summary account", limit=10
    )
    kinds = {s.kind for s in suggestions}
    assert kinds == {"issue", "runbook"}, "issues and runbooks are ranked together"
    assert len(suggestions) == 10
    issue = next(s for s in suggestions if s.kind == "issue")
    assert issue.number is not None
    assert issue.summary.startswith(("Vendor posting profile GEN", "Same cause as the earlier report. Vendor posting"))
    assert len(issue.summary) <= 200
    runbook = next(s for s in suggestions if s.kind == "runbook")
    assert runbook.number is None and runbook.summary.startswith("1. Accounts payable > Setup > Vendor posting profiles")
    assert corpus.family("runbook", runbook.id) == "ap_posting_profile"


async def test_limit_is_respected(session: AsyncSession) -> None:
    corpus = await load_corpus(session)
    similar = SimilarityRepository(session)
    assert len(await similar.similar(corpus.war_room_id, "vendor invoice posting", limit=1)) == 1
    assert len(await similar.similar(corpus.war_room_id, "vendor invoice posting", limit=7)) == 7
    assert await similar.similar(corpus.war_room_id, "vendor invoice posting", limit=0) == []


async def test_nothing_matching_gives_nothing(session: AsyncSession) -> None:
    corpus = await load_corpus(session)
    similar = SimilarityRepository(session)
    assert await similar.similar(corpus.war_room_id, "cafeteria coffee machine leaking water") == []
    for empty in ("", "   \n\t ", "?!… --- ***", "the and of to is it", "🔥🔥🔥"):
        assert await similar.similar(corpus.war_room_id, empty) == []


# --- what may be suggested -----------------------------------------------------------------------


async def test_war_rooms_are_isolated(session: AsyncSession) -> None:
    corpus = await load_corpus(session)
    # Another customer's war room with the same problems in the same words, and one of its own.
    lease = Family("lease", FA, CONF, (("IFRS16 lease liability schedule not generated",
                                        "The lease schedule for leasing contracts is blank."),), "Recreated the lease book.")
    other = await load_corpus(session, key="team:other-customer", families=FAMILIES[:12] + (lease,))
    similar = SimilarityRepository(session)
    for report, _ in NEW_REPORTS:
        ids = {(s.kind, s.id) for s in await similar.similar(corpus.war_room_id, report, limit=20)}
        assert not ids & {("issue", i) for i in other.family_of_issue}
        assert not ids & {("runbook", r) for r in other.family_of_runbook}
    assert await similar.similar(corpus.war_room_id, "IFRS16 lease liability") == []
    found = await similar.similar(other.war_room_id, "IFRS16 lease liability")
    assert found and {other.family(s.kind, s.id) for s in found} == {"lease"}
    # Runbooks too: the other war room's vendor posting profile runbook is not offered here.
    own = await RunbookRepository(session).search(corpus.war_room_id, "vendor posting profile", limit=20)
    assert own and {r.war_room_id for r in own} == {corpus.war_room_id}


async def test_unresolved_issues_are_not_suggested(session: AsyncSession) -> None:
    corpus = await load_corpus(session)
    similar = SimilarityRepository(session)
    # The expense receipt problem was never solved: none of its reports is offered, though their words match exactly.
    suggestions = await similar.similar(corpus.war_room_id, "Expense receipts not attaching, document type not found", limit=50)
    assert "expense_receipts" not in {corpus.family(s.kind, s.id) for s in suggestions}
    for report, _ in NEW_REPORTS:
        for suggestion in await similar.similar(corpus.war_room_id, report, limit=25):
            if suggestion.kind == "issue":
                assert suggestion.id in corpus.resolved


async def test_hostile_query_text_never_breaks_the_query(session: AsyncSession) -> None:
    corpus = await load_corpus(session)
    similar, runbooks = SimilarityRepository(session), RunbookRepository(session)
    hostile = [
        '"', '""', '"vendor', "*", "vendor*", "NEAR(", "NEAR(vendor invoice", "NEAR(a b, 3)", "AND OR NOT",
        "vendor AND OR NOT invoice", "'); DROP TABLE issues; --", "title:vendor", "{title body}: posting", "^vendor",
        ":*", "vendor:*", "!(invoice)", "invoice & | ! <-> posting", "vendor <2> invoice", "\\", "%_", "\x00 vendor",
        "🔥 vendor 🧾 invoice 💥", "ᚠᛇᚻ 請求書 فاتورة счёт-фактура", "x" * 10_000, ("vendor invoice posting " * 500)[:10_240],
        "-vendor +invoice", "(((((", ")))))", "\u202e\u200bvendor\ufeff", "posting profile\u00a0missing",
        "²²² ⅷ",  # letters and digits to Python, nothing to PostgreSQL's parser: an empty tsquery
    ]
    for query in hostile:
        result = await similar.similar(corpus.war_room_id, query)
        assert isinstance(result, list) and len(result) <= 3, query
        assert isinstance(await runbooks.search(corpus.war_room_id, query), list), query
    # Operators are read as words, so the words around them still count.
    assert await similar.similar(corpus.war_room_id, 'NEAR("vendor posting profile" AND OR NOT *')
    # Random printable and unprintable characters (seeded, so a failure is reproducible).
    rng = random.Random(20261126)
    alphabet = ' "*():^-+!&|<>\'\\;%_{}[]~,.\n\tNEARANDORNOTvendorinvoice' + "".join(map(chr, range(0x80, 0x2FF)))
    for _ in range(60):
        query = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 80)))
        assert isinstance(await similar.similar(corpus.war_room_id, query), list), repr(query)
    # The session is still usable (no failed transaction left behind).
    assert await runbook_count(session, corpus.war_room_id) == len(corpus.family_of_runbook)


# --- the index follows the data -------------------------------------------------------------------


async def test_an_issue_resolved_later_becomes_a_suggestion(session: AsyncSession) -> None:
    corpus = await load_corpus(session)
    number = len(corpus.family_of_issue) + 1
    row = issue_row(corpus.war_room_id, number, "Fixed asset acquisition proposal fails for leased forklifts",
                    "Acquisition proposal errors for forklift assets in book TAX.", status=Status.NEW, notes=None)
    session.add(row)
    await session.commit()
    similar = SimilarityRepository(session)
    query = "forklift acquisition proposal error, fixed asset book"
    assert row.id not in {s.id for s in await similar.similar(corpus.war_room_id, query, limit=20) if s.kind == "issue"}

    # Resolved through the application's own write path.
    issues = IssueRepository(session)
    issue = await issues.get(row.id)
    assert issue is not None
    notes = "Value model TAX was missing the acquisition posting profile; added account 181500 and reran the proposal."
    resolved = issue.model_copy(update={
        "status": Status.RESOLVED, "updated_at": NOW,
        "resolution": Resolution(type=ResolutionType.CONFIGURATION_CHANGED, notes=notes, handled_by=HandledBy.SUPPORT,
                                 resolved_by=RESOLVER, resolved_at=NOW),
    })
    await issues.save(resolved, expected_version=issue.version)
    await session.commit()

    found = await similar.similar(corpus.war_room_id, query)
    assert found[0].kind == "issue" and found[0].id == row.id and found[0].number == number
    assert found[0].summary == notes
    # Words only in the resolution notes find it too: the notes were indexed when they were written.
    by_notes = await similar.similar(corpus.war_room_id, "value model account 181500")
    assert by_notes and by_notes[0].id == row.id

    # Reopened: no longer a fix to suggest. Deleted: gone from the index.
    await session.execute(IssueRow.__table__.update().where(IssueRow.id == row.id).values(status=Status.REOPENED.value))
    assert row.id not in {s.id for s in await similar.similar(corpus.war_room_id, query) if s.kind == "issue"}
    await session.execute(IssueRow.__table__.update().where(IssueRow.id == row.id).values(status=Status.RESOLVED.value))
    assert (await similar.similar(corpus.war_room_id, query))[0].id == row.id
    await session.execute(delete(IssueRow).where(IssueRow.id == row.id))
    assert row.id not in {s.id for s in await similar.similar(corpus.war_room_id, query, limit=20) if s.kind == "issue"}
    if session.bind.dialect.name == "sqlite":
        assert (await session.execute(text("SELECT count(*) FROM search_fts WHERE rowid = :r"), {"r": row.id * 2})).scalar() == 0


async def test_deleting_a_war_room_empties_its_part_of_the_index(session: AsyncSession) -> None:
    corpus = await load_corpus(session)
    other = await load_corpus(session, key="team:other-customer", families=FAMILIES[:3])
    await session.execute(delete(WarRoomRow).where(WarRoomRow.id == corpus.war_room_id))  # cascades to issues, runbooks
    await session.commit()
    assert await SimilarityRepository(session).similar(corpus.war_room_id, "vendor invoice posting profile") == []
    assert await SimilarityRepository(session).similar(other.war_room_id, "vendor invoice posting profile")
    if session.bind.dialect.name == "sqlite":
        indexed = (await session.execute(text("SELECT count(*) FROM search_fts"))).scalar()
        assert indexed == len(other.family_of_issue) + len(other.family_of_runbook)


async def test_an_edited_runbook_is_found_by_its_new_words(session: AsyncSession) -> None:
    corpus = await load_corpus(session)
    runbooks, similar = RunbookRepository(session), SimilarityRepository(session)
    runbook_id = next(r for r, k in corpus.family_of_runbook.items() if k == "print_routing")
    assert await runbooks.search(corpus.war_room_id, "zebra thermal spooler") == []
    assert runbook_id in {r.id for r in await runbooks.search(corpus.war_room_id, "test page")}  # in the old steps

    updated = await runbooks.update(runbook_id, steps="Restart the Windows print spooler on the Zebra thermal label "
                                                      "server, then re-register the routing agent.", now=NOW + timedelta(days=1))
    assert updated is not None
    await session.commit()
    assert [r.id for r in await runbooks.search(corpus.war_room_id, "zebra thermal spooler")] == [runbook_id]
    suggestions = await similar.similar(corpus.war_room_id, "thermal spooler on the zebra box")
    assert suggestions[0].kind == "runbook" and suggestions[0].id == runbook_id
    assert suggestions[0].summary.startswith("Restart the Windows print spooler")
    # The old steps ("… Print a test page.") are no longer indexed.
    assert runbook_id not in {r.id for r in await runbooks.search(corpus.war_room_id, "test page")}

    await runbooks.update(runbook_id, title="Zebra label printer offline", now=NOW + timedelta(days=2))
    assert (await runbooks.search(corpus.war_room_id, "label printer offline"))[0].id == runbook_id

    await session.execute(delete(RunbookRow).where(RunbookRow.id == runbook_id))
    assert runbook_id not in {s.id for s in await similar.similar(corpus.war_room_id, "zebra spooler", limit=20)
                              if s.kind == "runbook"}


async def test_migration_indexes_rows_that_existed_before_it(engine: AsyncEngine) -> None:
    await migrate.downgrade(engine, "233b16a22b29")
    try:
        async with create_session_factory(engine)() as session:
            # Only the columns of that revision (the model has gained some since), here too.
            war_room_id = (await session.execute(
                insert(WarRoomRow).values(key="team:before-search", last_issue_number=0, created_at=NOW).returning(WarRoomRow.id)
            )).scalar_one()
            issue = issue_row(war_room_id, 1, "Customs broker interface rejects export declarations",
                              "EDI file to the customs broker is rejected.", status=Status.RESOLVED,
                              notes="Customs tariff codes were missing on the products; added them.")
            connection = await session.connection()
            existing = await connection.run_sync(lambda sync: {column["name"] for column in inspect(sync).get_columns("issues")})
            await session.execute(insert(IssueRow).values(
                {column.key: getattr(issue, column.key) for column in IssueRow.__table__.columns
                 if column.key in existing and column.key not in ("id", "reminders_paused")}
            ))
            # Only the columns of that revision (the model has gained some since).
            await session.execute(insert(RunbookRow).values(
                war_room_id=war_room_id, title="Customs declaration rejected", symptoms="Broker rejects",
                steps="Fill the tariff code on released products.", owner_name="Omar Haddad", created_at=NOW, updated_at=NOW,
            ))
            await session.commit()
    finally:
        await migrate.upgrade(engine)
    async with create_session_factory(engine)() as session:
        found = await SimilarityRepository(session).similar(war_room_id, "customs declaration rejected by the broker")
        assert sorted(s.kind for s in found) == ["issue", "runbook"]
        assert [r.title for r in await RunbookRepository(session).search(war_room_id, "tariff code")] == [
            "Customs declaration rejected"
        ]


async def test_search_structures_exist_and_are_ignored_by_alembic_check(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            found = await connection.execute(text("SELECT name FROM sqlite_master WHERE name LIKE 'search_fts%'"))
            names = set(found.scalars())
            assert {"search_fts", "search_fts_issues_insert", "search_fts_runbooks_update"} <= names
        else:
            columns = set((await connection.execute(text(
                "SELECT table_name FROM information_schema.columns WHERE column_name = 'search_vector'"))).scalars())
            assert columns == {"issues", "runbooks"}
    await migrate.check(engine)


# --- the runbook repository ---------------------------------------------------------------------------


async def _two_issues(session: AsyncSession, war_room_id: int) -> tuple[int, int]:
    rows = [
        issue_row(war_room_id, 1, "Vendor invoice will not post", "Posting profile missing.", status=Status.RESOLVED,
                  notes="Added the vendor group to the posting profile."),
        issue_row(war_room_id, 2, "Invoice journal will not post", "Summary account missing.", status=Status.RESOLVED,
                  notes="Same fix."),
    ]
    session.add_all(rows)
    await session.flush()
    return rows[0].id, rows[1].id


def new_runbook(war_room_id: int, **overrides: object) -> NewRunbook:
    values: dict[str, object] = {
        "war_room_id": war_room_id, "title": "Vendor invoice will not post",
        "symptoms": "Posting stops with a posting profile error.", "steps": "Add the vendor group to posting profile GEN.",
        "area": Area.ACCOUNTS_PAYABLE, "category": Category.CONFIGURATION, "owner": OWNER, "created_at": NOW,
    }
    return NewRunbook.model_validate(values | overrides)


async def test_runbook_add_get_and_links(session: AsyncSession) -> None:
    war_room_id = await add_war_room(session, "team:kb")
    first, second = await _two_issues(session, war_room_id)
    runbooks = RunbookRepository(session)
    added = await runbooks.add(new_runbook(war_room_id, issue_ids=(second, first, second)))
    await session.commit()
    assert added.issue_ids == (first, second)
    stored = await runbooks.get(added.id)
    assert stored == added
    assert stored.created_at == NOW and stored.created_at.tzinfo is not None and stored.owner == OWNER
    assert (stored.area, stored.category) == (Area.ACCOUNTS_PAYABLE, Category.CONFIGURATION)
    assert await runbooks.get(added.id + 1000) is None

    other = await runbooks.add(new_runbook(war_room_id, title="Invoice journal summary account", issue_ids=(second,)))
    assert (await runbooks.get(other.id)).issue_ids == (second,)  # type: ignore[union-attr]
    assert await runbooks.linked_issue_ids(war_room_id) == {first, second}
    assert await runbook_count(session, war_room_id) == 2


async def test_runbooks_link_only_issues_of_their_war_room(session: AsyncSession) -> None:
    war_room_id = await add_war_room(session, "team:kb")
    other_room = await add_war_room(session, "team:elsewhere")
    (foreign, _) = await _two_issues(session, other_room)
    runbooks = RunbookRepository(session)
    with pytest.raises(ValueError):
        await runbooks.add(new_runbook(war_room_id, issue_ids=(foreign,)))
    await runbooks.add(new_runbook(war_room_id))
    assert await runbooks.linked_issue_ids(war_room_id) == set()
    assert (await runbook_count(session, war_room_id), await runbook_count(session, other_room)) == (1, 0)


async def test_runbook_update_changes_only_what_is_given(session: AsyncSession) -> None:
    war_room_id = await add_war_room(session, "team:kb")
    runbooks = RunbookRepository(session)
    runbook = await runbooks.add(new_runbook(war_room_id))
    later = NOW + timedelta(hours=3)
    changed = await runbooks.update(runbook.id, steps="1. Open vendor posting profiles. 2. Add the group.", now=later)
    assert changed is not None
    assert changed.steps.startswith("1. Open vendor posting profiles")
    assert (changed.title, changed.symptoms, changed.area, changed.category) == (
        runbook.title, runbook.symptoms, Area.ACCOUNTS_PAYABLE, Category.CONFIGURATION)
    assert changed.updated_at == later and changed.created_at == NOW

    cleared = await runbooks.update(runbook.id, title="Vendor posting profile", area=None, category=Category.DEFECT, now=later)
    assert cleared is not None
    assert (cleared.title, cleared.area, cleared.category) == ("Vendor posting profile", None, Category.DEFECT)
    assert (await runbooks.get(runbook.id)) == cleared
    assert await runbooks.update(runbook.id + 1000, title="nothing", now=later) is None
    for bad in ({"title": "  "}, {"title": "x" * 121}, {"steps": ""}, {"symptoms": "x" * 8001}):
        with pytest.raises(ValueError):
            await runbooks.update(runbook.id, now=later, **bad)  # type: ignore[arg-type]
    assert await runbooks.get(runbook.id) == cleared


async def test_runbook_search_ranks_the_war_rooms_runbooks(session: AsyncSession) -> None:
    corpus = await load_corpus(session)
    runbooks = RunbookRepository(session)
    found = await runbooks.search(corpus.war_room_id, "supplier bill won't post: posting profile")
    assert found and corpus.family_of_runbook[found[0].id] == "ap_posting_profile"
    assert found[0].issue_ids and all(corpus.family_of_issue[i] == "ap_posting_profile" for i in found[0].issue_ids)
    assert len(await runbooks.search(corpus.war_room_id, "post invoice sales tax printer wave statement", limit=3)) == 3
    assert [corpus.family_of_runbook[r.id] for r in await runbooks.search(corpus.war_room_id, "AADSTS50076 sign in")][0] == (
        "mfa_block")
    assert await runbooks.search(corpus.war_room_id, "   ") == []
    assert await runbooks.search(corpus.war_room_id, "coffee machine") == []


# --- query building (no database) -------------------------------------------------------------------


def test_search_terms_are_plain_words_with_synonyms() -> None:
    assert search_terms("Supplier bills won't post — can't log in!") == [
        "supplier", "vendor", "bills", "invoice", "post", "log", "login", "logon", "signin"]
    assert search_terms("Bill of materials missing") == ["bom", "formula", "materials", "missing"]
    assert search_terms("  ?!  ") == [] and search_terms("the of and") == []
    assert all(term.isalnum() for term in search_terms('NEAR("a b" *) AND :* \'); DROP TABLE x; 🎉'))
    assert len(search_terms("word " * 5000 + " ".join(f"w{i}x" for i in range(100)))) <= 32


def test_summary_is_one_line_and_short() -> None:
    assert summarize("Added the group.\n\nReposted.") == "Added the group. Reposted."
    long = summarize("Reposted the invoices after adding the vendor group. " * 20)
    assert len(long) <= 200 and long.endswith("…") and not long[:-1].endswith(" ")
    assert summarize(None) == ""
