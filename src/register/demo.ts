import { createHash } from 'node:crypto'
import { Database } from '../db/database'
import {
  ControllerWrite, DataCategoryWrite, DataSubjectCategoryWrite, ProcessingActivityWrite, ProcessorWrite, PurposeWrite,
  RecipientWrite, RetentionRuleWrite, SecurityMeasureWrite,
} from '../dto/register'
import { catalogueId } from './catalogue'
import {
  controllers, dataCategories, dataSubjectCategories, processingActivities, processors, purposes, recipients, ResourceDef,
  retentionRules, securityMeasures,
} from './model'
import { getView } from './reads'
import { Principal, upsertRecord } from './writes'
import { openWorkspace } from './workspaces'

/**
 * The demo register: what the five Swedish privacy policies in docs/seeds/ say, as register
 * records in the write-body shapes of src/dto/register.ts. Only what a policy states is recorded,
 * in its own words; where a policy is silent (no legal basis, no transfer mechanism, no retention
 * limit, no DPO) the field stays empty, so that the gap shows. Contradictions are quoted in the
 * controller's notes. docs/demo-register.md lists what went where and every gap kept.
 *
 * Every record has a stable key; its id is derived from the key, so loading the demo again
 * replaces the same records instead of adding new ones.
 */

export const DEMO_WORKSPACE = 'demo'

/** RFC 4122 name-based (SHA-1, version 5) UUID, in a namespace of its own (not the catalogue's). */
const DEMO_NAMESPACE = Buffer.from('0b7c3f5e2a9d4e8b9c1f6a3d5e7b2c40', 'hex')
export function demoId(key: string): string {
  const hash = createHash('sha1').update(DEMO_NAMESPACE).update(key).digest()
  hash[6] = (hash[6] & 0x0f) | 0x50
  hash[8] = (hash[8] & 0x3f) | 0x80
  const h = hash.subarray(0, 16).toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

const id = demoId
const ids = (...keys: string[]): string[] => keys.map(demoId)
/** A built-in legal basis by its stable code (present once ensureCatalogue has run). */
const basis = (...codes: string[]): string[] => codes.map(catalogueId)

/** The policy each controller comes from. */
export const DEMO_SEEDS = {
  haltea: 'docs/seeds/000_75e096bb642843fb.txt',
  smultronsites: 'docs/seeds/001_c6d2bada78b1f775.txt',
  allavie: 'docs/seeds/002_749356a75099b006.txt',
  hudateljen: 'docs/seeds/002_749356a75099b006.txt',
  wellnesskliniken: 'docs/seeds/003_e96016af1643362b.txt',
  '5d-portalen': 'docs/seeds/004_bd9eb2b9031ee8c3.txt',
} as const

export interface DemoEntry<T> {
  key: string
  body: T
}

export interface DemoRegister {
  controllers: DemoEntry<ControllerWrite>[]
  processors: DemoEntry<ProcessorWrite>[]
  purposes: DemoEntry<PurposeWrite>[]
  dataSubjectCategories: DemoEntry<DataSubjectCategoryWrite>[]
  dataCategories: DemoEntry<DataCategoryWrite>[]
  recipients: DemoEntry<RecipientWrite>[]
  retentionRules: DemoEntry<RetentionRuleWrite>[]
  securityMeasures: DemoEntry<SecurityMeasureWrite>[]
  processingActivities: DemoEntry<ProcessingActivityWrite>[]
}

const empty = (): DemoRegister => ({
  controllers: [], processors: [], purposes: [], dataSubjectCategories: [], dataCategories: [], recipients: [],
  retentionRules: [], securityMeasures: [], processingActivities: [],
})

function merge(...parts: DemoRegister[]): DemoRegister {
  const out = empty()
  for (const p of parts) for (const k of Object.keys(out) as (keyof DemoRegister)[]) (out[k] as DemoEntry<unknown>[]).push(...p[k])
  return out
}

const lines = (...text: string[]): string => text.join('\n')

// ---------------------------------------------------------------------------------------------
// 000: HALTEA AB (Minupplevelse.se)

function haltea(): DemoRegister {
  const k = (key: string): string => `haltea.${key}`
  const r = empty()
  r.controllers.push({
    key: 'haltea',
    body: {
      name: 'HALTEA AB',
      organisationNumber: null,
      address: null,
      email: 'kontakt@minupplevelese.se',
      phone: null,
      country: 'SE',
      website: 'Minupplevelse.se',
      representative: null,
      dataProtectionOfficer: null,
      notes: lines(
        `Källa: ${DEMO_SEEDS.haltea}, "Integritetspolicy för HALTEA AB (webbplatsen Minupplevelse.se)".`,
        'E-post: policyn anger "kontakta oss på kontakt@minupplevelese.se" – domänen stavas "minupplevelese", inte som webbplatsen Minupplevelse.se. Återgiven som den står (troligen ett skrivfel i policyn).',
        'Motsägelse om kakor: "De identifierar återkommande besökare, spårar och målanpassar användarens intressen." men också "Vad just du sökt på framkommer inte, det sparas endast som ett anonymt klick."',
        'Policyn anger inget organisationsnummer, ingen postadress, inget telefonnummer, inget dataskyddsombud och ingen rättslig grund för någon behandling. Land SE är härlett (svenskt aktiebolag, .se-webbplats), inte angivet.',
      ),
    },
  })

  r.dataSubjectCategories.push(
    { key: k('subjects.customers'), body: { name: 'Kunder', description: 'Policyn: "du som kund" – den som beställer på Minupplevelse.se eller kontaktar oss "via e-post- eller telefonkontakt".' } },
    { key: k('subjects.visitors'), body: { name: 'Besökare på Minupplevelse.se', description: 'Policyn: "Vi samlar automatiskt upp information från andra källor, viss information om den enhet du använder"; kakorna "identifierar återkommande besökare".' } },
  )

  r.dataCategories.push(
    { key: k('data.name'), body: { name: 'Namn', classification: 'ordinary', description: 'Policyn: "för- och efternamn".' } },
    { key: k('data.email'), body: { name: 'E-postadress', classification: 'ordinary', description: 'Policyn: "e-postdress" (sic); delas med arrangören som "mailadress".' } },
    { key: k('data.phone'), body: { name: 'Telefonnummer', classification: 'ordinary', description: 'Policyn: "Telefonnummer och e-postdress används även för kommunikation." och för återbetalning efter betalning med Swish.' } },
    { key: k('data.address'), body: { name: 'Adress', classification: 'ordinary', description: 'Policyn: till arrangören delas "oftast ... namn och telefonnummer men det kan även vara adress och mailadress"; bokningsbekräftelse, biljett och faktura levereras "via e-post och vanlig post".' } },
    { key: k('data.card'), body: { name: 'Kortuppgifter', classification: 'ordinary', description: 'Policyn: "Vid kortköp behandlar vi även dina kortuppgifter".' } },
    {
      key: k('data.personnummer'),
      body: {
        name: 'Personnummer', classification: 'national-id',
        description: 'Policyn: "det finns även ett val att lämna personnummer" och "Personnummer krävs för att få tillgång till faktura- och delbetalning och även för att komplettera eller uppgradera en beställning." (skälet enligt dataskyddslagen 3 kap. 10 §).',
      },
    },
    { key: k('data.organisation-number'), body: { name: 'Företagets organisationsnummer', classification: 'ordinary', description: 'Policyn: "det finns även ett val att lämna ... ett företags organisationsnummer".' } },
    { key: k('data.given'), body: { name: 'Information du anger på webbsidan eller förmedlar via e-post eller telefon', classification: 'ordinary', description: 'Policyn: "Vi behandlar all information som du anger på webbsidan eller på annat sätt förmedlar till oss, t.ex. via e-post- eller telefonkontakt."' } },
    { key: k('data.order'), body: { name: 'Beställning, bokningsbekräftelse, biljett och faktura', classification: 'ordinary', description: 'Policyn: "leverera bokningsbekräftelse, biljett och faktura" och "Viktig information angående beställningen".' } },
    { key: k('data.device'), body: { name: 'Enhetsinformation, IP-adress och överlämnande sida', classification: 'ordinary', description: 'Policyn: "viss information om den enhet du använder, vilken IP-adress den har och vilken som är den överlämnande sidan, alltså hur du kommit till Minupplevelse.se."' } },
    { key: k('data.cookies'), body: { name: 'Kakor (cookies)', classification: 'ordinary', description: 'Policyn: "små textfiler som hämtas och lagras på den enhet du använder ... De identifierar återkommande besökare, spårar och målanpassar användarens intressen." och "En kaka används också då du lägger en vara i varukorgen."' } },
    {
      key: k('data.sensitive'),
      body: {
        name: 'Känslig information som du själv skickar till oss', classification: 'special', specialCategory: 'unspecified',
        description: lines(
          'Policyn: "Ingen känslig information om dig kommer att behandlas om den inte skickas direkt till oss. Känslig information raderas omgående efter slutfört ärende."',
          'Policyn säger inte vilken känslig information som avses: art. 9.1-kategorin är därför ospecificerad, en lucka att bedöma.',
        ),
      },
    },
  )

  r.recipients.push(
    {
      key: k('recipients.organisers'),
      body: {
        name: 'Arrangörer av evenemang', country: null,
        description: 'Policyn: "Ibland behövs personliga uppgifter för att boka och garantera beviljat inträde till ett evenemang. I dessa fall förmedlar vi dina uppgifter till arrangören av evenemanget. Information om vilka uppgifter som delas står alltid under detaljer på evenemangssidan, oftast är det namn och telefonnummer men det kan även vara adress och mailadress. ... Namn och kontaktuppgift kan även tilldelas arrangörer för att hjälpa oss i ett ärende gällande er bokning."',
      },
    },
    {
      key: k('recipients.advertisers'),
      body: { name: 'Annonsörer', country: null, description: 'Policyn: "Vi kan, till övriga parter så som annonserare, dela uppgifter om antal besökare på vår webbsida."' },
    },
    {
      key: k('recipients.google'),
      body: {
        name: 'Google', country: 'US',
        description: 'Policyn: "Google är ett exempel på ett företag som tar del av denna typ av data." (uppgifter om antal besökare) och hänvisar till "Google’s Privacy & Terms site". Landet anges inte i policyn; US är registrets antagande (Google är ett amerikanskt företag).',
      },
    },
  )

  r.processors.push({
    key: k('processors.klarna'),
    body: {
      name: 'Klarna',
      service: 'Betalpartner',
      organisationNumber: null, country: null, dataProcessingAgreement: null,
      notes: lines(
        `Källa: ${DEMO_SEEDS.haltea}.`,
        'Policyn: "Vi delar uppgifter om dig till våra betalpartner, Klarna. Dina uppgifter kommer inte att delas till dem om du inte tillåter det."',
        'Policyn säger inte om Klarna är personuppgiftsbiträde eller självständigt personuppgiftsansvarig, och anger inget organisationsnummer, land eller biträdesavtal.',
      ),
    },
  })

  r.purposes.push(
    { key: k('purposes.contract'), body: { name: 'Utföra administrativa tjänster och fullfölja avtal', description: 'Policyn: "Dina personliga uppgifter behandlas i avsett ändamål, dvs. för att utföra administriva tjänster samt fullfölja ett avtal, leverera bokningsbekräftelse, biljett och faktura. Detta görs via e-post och vanlig post."' } },
    { key: k('purposes.invoice'), body: { name: 'Faktura- och delbetalning samt komplettering eller uppgradering av beställning', description: 'Policyn: "Personnummer krävs för att få tillgång till faktura- och delbetalning och även för att komplettera eller uppgradera en beställning."' } },
    { key: k('purposes.communication'), body: { name: 'Kommunikation om beställningen', description: 'Policyn: "Telefonnummer och e-postdress används även för kommunikation. Viktig information angående beställningen skickas vanligtvis via sms såväl som e-post."' } },
    { key: k('purposes.refund'), body: { name: 'Återbetalning via Swish', description: 'Policyn: "Ditt telefonnummer kan användas för att efter betalning med Swish, återbetala pengar med samma medel vid t.ex. ett inställt evenemang."' } },
    { key: k('purposes.admission'), body: { name: 'Boka och garantera inträde till evenemang', description: 'Policyn: "Ibland behövs personliga uppgifter för att boka och garantera beviljat inträde till ett evenemang." och "Detta är en trygghetsåtgärd för dig och oss som gör det möjligt för arrangören att direkt kontakta dig vid akuta fall som inte hinner gå genom oss."' } },
    { key: k('purposes.experience'), body: { name: 'Förbättra din upplevelse och tillgodose dina önskemål', description: 'Policyn: "Uppgifter och information du lämnar till oss används för att förbättra din upplevelse och tillgodose dina önskemål."' } },
    { key: k('purposes.failed-payment'), body: { name: 'Kontakt efter misslyckad betalning', description: 'Policyn: "Minupplevelse.se åtar sig rätten att, under en kort period efter misslyckad betalning vid beställningstillfället, kontakta kund för att hjälpa denne slutföra beställningen."' } },
    { key: k('purposes.fraud'), body: { name: 'Förhindra bedrägeri', description: 'Policyn: "Den automatiska information som lämnas hjälper oss förhindra bedrägeri,för vår och för din säkerhet."' } },
    { key: k('purposes.website'), body: { name: 'Uppdatera och förbättra webbsidan', description: 'Policyn: "Detta ger oss även information om den överlämnande sidan, detta för att hela tiden uppdatera och förbättra webbsidan."' } },
    { key: k('purposes.popularity'), body: { name: 'Besöksstatistik: vad som är mest populärt', description: 'Policyn: "Denna information används för att visa oss vad som är mest populärt, vad flest personer sökt på och i vilken stad det ligger i. Vad just du sökt på framkommer inte, det sparas endast som ett anonymt klick."' } },
    { key: k('purposes.cart'), body: { name: 'Spara varukorgen', description: 'Policyn: "En kaka används också då du lägger en vara i varukorgen. Om du stänger webbläsaren och öppnar den igen så kommer varan att vara kvar."' } },
    { key: k('purposes.targeting'), body: { name: 'Identifiera återkommande besökare, spåra och målanpassa användarens intressen', description: 'Policyn om kakor: "De identifierar återkommande besökare, spårar och målanpassar användarens intressen."' } },
    { key: k('purposes.advertisers'), body: { name: 'Dela besöksstatistik med annonsörer', description: 'Policyn: "Detta exempelvis för att demonstrera vilket som är det populäraste evenemanget eller hur många som hittat till webbplatsen från en överlämnande sida."' } },
  )

  r.retentionRules.push(
    {
      key: k('retention.18-months'),
      body: {
        name: 'Raderas som standard efter 18 månader',
        period: 'P18M',
        trigger: null,
        legalReference: 'Policyns skäl: "då vi beräknat att samtliga avtal med garanti gått ut då"; undantag för uppgifter som lag kräver att vi sparar (ingen lag namnges)',
        description: lines(
          'Policyn: "Informationen behandlas så länge det är nödvändigt om du inte avsäger dig tjänsten. Undantaget är om vi enligt lag av måste spara uppgifterna en längre tid, t.ex. för att fullfölja ingått avtal."',
          '"De uppgifter som inte enligt lag kräver att vi sparar dem raderas som standard efter 18 månader då vi beräknat att samtliga avtal med garanti gått ut då. Vid begäran av kund att uppgifterna raderas tidigare kan detta möjliggöras om avtal är slutfört och garanti gått ut."',
          'Från vilken händelse de 18 månaderna räknas anges inte.',
        ),
      },
    },
    {
      key: k('retention.sensitive'),
      body: {
        name: 'Känslig information raderas omgående efter slutfört ärende',
        period: 'P0D',
        trigger: 'efter slutfört ärende',
        legalReference: null,
        description: 'Policyn: "Känslig information raderas omgående efter slutfört ärende."',
      },
    },
    {
      key: k('retention.cancelled-order'),
      body: {
        name: 'Makulerad beställning: uppgifterna sparas inte vidare',
        period: 'P0D',
        trigger: 'när kunden inte vill slutföra beställningen och ordern makuleras',
        legalReference: null,
        description: 'Policyn: "Vid tillfälle då kund inte vill slutföra beställningen så makuleras ordern och ingen vidare kontakt tas. Uppgifterna sparas då inte vidare."',
      },
    },
  )

  const measureQuote = 'Policyn: "Vi använder oss av brandväggar och system som upptäcker inkräktare för att hjälpa förebygga obehöriga personer från att få tillgång till eller använda dina uppgifter i skadligt ändamål."'
  r.securityMeasures.push(
    {
      key: k('security.general'),
      body: {
        name: 'Administrativa, tekniska och fysiska säkerhetsåtgärder', type: 'organisational', category: 'other',
        description: 'Policyn: "Vi har vidtagit säkerhetsåtgärder vi anser lämpliga administrativt, tekniskt och fysiskt för att skydda den information vi behandlar." och "vi ser till att uppgifterna skyddas mot obehörig åtkomst". Vilka åtgärderna är anges inte närmare.',
      },
    },
    {
      key: k('security.access'),
      body: {
        name: 'Endast personal med särskild behörighet har tillgång', type: 'organisational', category: 'access-control',
        description: 'Policyn: "Endast personal med särskild behörighet har tillgång till personlig information och de har endast tillåtelse att använda denna för särskilda ändamål."',
      },
    },
    { key: k('security.firewalls'), body: { name: 'Brandväggar', type: 'technical', category: 'network-security', description: measureQuote } },
    { key: k('security.intrusion-detection'), body: { name: 'System som upptäcker inkräktare', type: 'technical', category: 'network-security', description: measureQuote } },
  )

  const security = ids(k('security.general'), k('security.access'), k('security.firewalls'), k('security.intrusion-detection'))
  const noBasis = (key: string) => ({ purposeId: id(k(`purposes.${key}`)), legalBasisIds: [] })
  r.processingActivities.push(
    {
      key: k('activity.orders'),
      body: {
        name: 'Beställningar och bokningar på Minupplevelse.se',
        description: 'Enligt integritetspolicyn för HALTEA AB: "Vi behandlar all information som du anger på webbsidan eller på annat sätt förmedlar till oss ... Vid kortköp behandlar vi även dina kortuppgifter och det finns även ett val att lämna personnummer och ett företags organisationsnummer."',
        role: 'controller', status: 'active', controllerId: id('haltea'),
        purposes: ['contract', 'invoice', 'communication', 'refund', 'admission', 'experience'].map(noBasis),
        dataSubjectCategoryIds: ids(k('subjects.customers')),
        dataCategoryIds: ids(k('data.name'), k('data.email'), k('data.phone'), k('data.address'), k('data.card'), k('data.personnummer'), k('data.organisation-number'), k('data.given'), k('data.order'), k('data.sensitive')),
        recipientIds: ids(k('recipients.organisers')),
        processorIds: ids(k('processors.klarna')),
        transfers: [],
        retention: [
          { retentionRuleId: id(k('retention.18-months')) },
          { retentionRuleId: id(k('retention.sensitive')), dataCategoryIds: ids(k('data.sensitive')) },
        ],
        securityMeasureIds: security,
        dataSources: ['Den registrerade själv: "all information som du anger på webbsidan eller på annat sätt förmedlar till oss, t.ex. via e-post- eller telefonkontakt"'],
        systems: ['Minupplevelse.se'],
        automatedDecisionMaking: false,
      },
    },
    {
      key: k('activity.failed-payment'),
      body: {
        name: 'Kontakt efter misslyckad betalning',
        description: 'Policyn: "Minupplevelse.se åtar sig rätten att, under en kort period efter misslyckad betalning vid beställningstillfället, kontakta kund för att hjälpa denne slutföra beställningen. Vid tillfälle då kund inte vill slutföra beställningen så makuleras ordern och ingen vidare kontakt tas. Uppgifterna sparas då inte vidare."',
        role: 'controller', status: 'active', controllerId: id('haltea'),
        purposes: [noBasis('failed-payment')],
        dataSubjectCategoryIds: ids(k('subjects.customers')),
        dataCategoryIds: ids(k('data.name'), k('data.email'), k('data.phone'), k('data.order')),
        retention: [{ retentionRuleId: id(k('retention.cancelled-order')) }],
        securityMeasureIds: security,
        automatedDecisionMaking: false,
      },
    },
    {
      key: k('activity.device-data'),
      body: {
        name: 'Automatiskt insamlad information om enhet, IP-adress och överlämnande sida',
        description: 'Policyn: "Vi samlar automatiskt upp information från andra källor, viss information om den enhet du använder, vilken IP-adress den har och vilken som är den överlämnande sidan, alltså hur du kommit till Minupplevelse.se."',
        role: 'controller', status: 'active', controllerId: id('haltea'),
        purposes: [noBasis('fraud'), noBasis('website')],
        dataSubjectCategoryIds: ids(k('subjects.visitors'), k('subjects.customers')),
        dataCategoryIds: ids(k('data.device')),
        retention: [{ retentionRuleId: id(k('retention.18-months')) }],
        securityMeasureIds: security,
        dataSources: ['Samlas in automatiskt "från andra källor": den enhet du använder, dess IP-adress och den överlämnande sidan'],
        systems: ['Minupplevelse.se'],
        automatedDecisionMaking: false,
      },
    },
    {
      key: k('activity.cookies'),
      body: {
        name: 'Kakor och besöksstatistik',
        description: 'Policyn: "Kakorna samlas dels in automatiskt då du besöker vår hemsida." och "Vi kan, till övriga parter så som annonserare, dela uppgifter om antal besökare på vår webbsida. ... Google är ett exempel på ett företag som tar del av denna typ av data."',
        role: 'controller', status: 'active', controllerId: id('haltea'),
        purposes: ['popularity', 'cart', 'targeting', 'advertisers'].map(noBasis),
        dataSubjectCategoryIds: ids(k('subjects.visitors')),
        dataCategoryIds: ids(k('data.cookies')),
        recipientIds: ids(k('recipients.advertisers'), k('recipients.google')),
        // The policy names Google but no country and no Chapter V mechanism: the mechanism stays empty.
        transfers: [{ country: 'US', recipientId: id(k('recipients.google')), mechanism: null, safeguards: null, documentation: null }],
        retention: [],
        securityMeasureIds: security,
        dataSources: ['Samlas in automatiskt via kakor "då du besöker vår hemsida"'],
        systems: ['Minupplevelse.se'],
        automatedDecisionMaking: false,
      },
    },
  )
  return r
}

// ---------------------------------------------------------------------------------------------
// 001: Smultronsites AB

function smultronsites(): DemoRegister {
  const k = (key: string): string => `smultronsites.${key}`
  const r = empty()
  r.controllers.push({
    key: 'smultronsites',
    body: {
      name: 'Smultronsites AB',
      organisationNumber: null,
      address: 'Årevägen 35E, 837 52 Åre',
      email: 'hello@smultronsites.com',
      phone: null,
      country: 'SE',
      website: null,
      representative: null,
      dataProtectionOfficer: null,
      notes: lines(
        `Källa: ${DEMO_SEEDS.smultronsites}, "Integritetspolicy", "Uppdaterad 2022-02-08".`,
        'Policyn säger "Genom att använda Smultronsites tjänster accepterar du vår integritetspolicy" men anger ingen rättslig grund, utom samtycke till kakor ("Genom att samtycka till att vi använder kakor") och det tillstånd du ger för publicering.',
        'Policyn nämner "bokföringslagar" men anger ingen lagringstid utöver "inte ... längre än vad som är nödvändigt för ändamålet".',
        'Policyn anger inget organisationsnummer, inget telefonnummer, ingen webbadress och inget dataskyddsombud. Land SE är härlett ur adressen (Åre), inte angivet.',
      ),
    },
  })

  r.dataSubjectCategories.push(
    { key: k('subjects.customers'), body: { name: 'Kunder', description: 'Policyn: "våra förpliktelser gentemot dig som kund, såsom genomförande av beställning, betalning och tillhandahållande av support"; fakturering "i samband med utförda guidetjänster".' } },
    { key: k('subjects.users'), body: { name: 'Användare av webbplatsen', description: 'Policyn: "IP-adress och information om din användning av Smultronsites webbplats", "när du skapar en profil på vår hemsida".' } },
    { key: k('subjects.subscribers'), body: { name: 'Prenumeranter på nyhetsbrevet', description: 'Policyn: "att skicka vårt nyhetsbrev via e-post till dig om du har begärt det".' } },
  )

  const listed = (key: string, name: string, classification = 'ordinary', description?: string): DemoEntry<DataCategoryWrite> =>
    ({ key: k(`data.${key}`), body: { name, classification, description: description ?? `Policyn, "Insamling av personlig information": "${name}".` } })
  r.dataCategories.push(
    listed('name', 'Namn'),
    listed('contact', 'Telefonnummer och e-post'),
    listed('payment', 'Betalningsuppgifter', 'ordinary', 'Policyn, "Insamling av personlig information": "Betalningsuppgifter"; lämnas ut "till Smultronsites leverantör av kort- och kommunikationstjänster".'),
    listed('customer-number', 'Kundnummer'),
    listed('personnummer', 'Personnummer', 'national-id', 'Policyn, "Insamling av personlig information": "5. Personnummer". Varför personnummer behandlas (dataskyddslagen 3 kap. 10 §) anges inte.'),
    listed('organisation-account', 'Organisationsnummer och kontonummer'),
    listed('ip-usage', 'IP-adress och information om din användning av Smultronsites webbplats'),
    listed('profile', 'Information som du anger när du skapar en profil på vår hemsida'),
    listed('communication', 'Information i alla former av kommunikation som du skickar till oss via e-post eller vår hemsida'),
    listed('publication', 'Personlig information som du skickar för publicering på vår hemsida', 'ordinary', 'Policyn: "Om du skickar personlig information för publicering på vår hemsida, kommer vi att publicera och på annat sätt använda den informationen i enlighet med det tillstånd du ger oss."'),
    listed('cookies', 'Cookies: inställningar, åtkomsträttigheter och statistik', 'ordinary', 'Policyn: "Smultronsites använder av cookies för att förbättra och underlätta användarupplevelsen genom att spara dina inställningar och åtkomsträttigheter samt för att föra statistik på din användning av Webbplatsen."'),
  )

  r.purposes.push(
    { key: k('purposes.obligations'), body: { name: 'Fullfölja våra förpliktelser gentemot dig som kund', description: 'Policyn: "att fullfölja våra förpliktelser gentemot dig som kund, såsom genomförande av beställning, betalning och tillhandahållande av support".' } },
    { key: k('purposes.services'), body: { name: 'Göra det möjligt att använda tjänsterna som är tillgängliga på vår hemsida', description: 'Policyn: "att göra det möjligt att använda tjänsterna som är tillgängliga på vår hemsida".' } },
    { key: k('purposes.payments'), body: { name: 'Samla in betalningar, skicka kontoutdrag, fakturor och betalningspåminnelser', description: 'Policyn: "att skicka samla in betalningar från dig, skicka kontoutdrag, fakturor och betalningspåminnelser".' } },
    { key: k('purposes.requested-email'), body: { name: 'Skicka e-postmeddelanden som du specifikt har begärt', description: 'Policyn: "att skicka e-postmeddelanden som du specifikt har begärt".' } },
    { key: k('purposes.newsletter'), body: { name: 'Skicka nyhetsbrev via e-post', description: 'Policyn: "att skicka vårt nyhetsbrev via e-post till dig om du har begärt det (du kan informera oss när som helst om du inte längre behöver nyhetsbrevet)".' } },
    { key: k('purposes.statistics'), body: { name: 'Ge tredje parter statistisk information om våra användare', description: 'Policyn: "att ge tredje parter statistisk information om våra användare (men dessa tredje parter kommer inte att kunna identifiera en enskild användare från informationen)".' } },
    { key: k('purposes.law'), body: { name: 'Följa tillämplig lagstiftning, till exempel bokföringslagar', description: 'Policyn: "att följa tillämplig lagstiftning, till exempel bokföringslagar" och utlämnande "i den mån vi är skyldiga att göra det enligt lag".' } },
    { key: k('purposes.legal-rights'), body: { name: 'Upprätta, utöva eller försvara våra juridiska rättigheter', description: 'Policyn: "för att upprätta, utöva eller försvara våra juridiska rättigheter (inklusive att lämna ut information till andra i syfte att förebygga bedrägerier och förminska kreditrisken)".' } },
    { key: k('purposes.publication'), body: { name: 'Publicering på vår hemsida', description: 'Policyn: "Om du skickar personlig information för publicering på vår hemsida, kommer vi att publicera och på annat sätt använda den informationen i enlighet med det tillstånd du ger oss."' } },
    { key: k('purposes.cookies'), body: { name: 'Cookies: spara inställningar och åtkomsträttigheter samt föra statistik', description: 'Policyn: "för att förbättra och underlätta användarupplevelsen genom att spara dina inställningar och åtkomsträttigheter samt för att föra statistik på din användning av Webbplatsen."' } },
  )

  const disclosure = 'Policyn: "Vi kan komma att lämna ut din personliga information till någon av våra anställda, styrelseledamöter, försäkringsbolag, professionella rådgivare, ombud, leverantörer eller underleverantörer som är rimligt nödvändigt för de syften som anges i denna policy."'
  r.recipients.push(
    { key: k('recipients.staff'), body: { name: 'Anställda och styrelseledamöter', description: disclosure } },
    { key: k('recipients.insurers'), body: { name: 'Försäkringsbolag', description: disclosure } },
    { key: k('recipients.advisers'), body: { name: 'Professionella rådgivare och ombud', description: disclosure } },
    { key: k('recipients.suppliers'), body: { name: 'Leverantörer och underleverantörer', description: disclosure } },
    { key: k('recipients.by-law'), body: { name: 'Mottagare som vi enligt lag är skyldiga att lämna ut uppgifter till', description: 'Policyn: "i den mån vi är skyldiga att göra det enligt lag". Mottagarna namnges inte.' } },
    { key: k('recipients.legal-rights'), body: { name: 'Andra, för att upprätta, utöva eller försvara våra juridiska rättigheter', description: 'Policyn: "för att upprätta, utöva eller försvara våra juridiska rättigheter (inklusive att lämna ut information till andra i syfte att förebygga bedrägerier och förminska kreditrisken)".' } },
    { key: k('recipients.statistics'), body: { name: 'Tredje parter som får statistisk information', description: 'Policyn: "att ge tredje parter statistisk information om våra användare (men dessa tredje parter kommer inte att kunna identifiera en enskild användare från informationen)". Land anges inte.' } },
  )

  const unnamed = 'Företaget namnges inte. Policyn kallar det inte personuppgiftsbiträde och anger inget organisationsnummer, land eller biträdesavtal.'
  r.processors.push(
    {
      key: k('processors.card-communication'),
      body: {
        name: 'Leverantör av kort- och kommunikationstjänster',
        service: 'Kort- och kommunikationstjänster, "endast i syfte att fullfölja tjänster i anknytning till Smultronsites avtal med dig"',
        dataProcessingAgreement: null,
        notes: lines(`Källa: ${DEMO_SEEDS.smultronsites}.`, 'Policyn: "till Smultronsites leverantör av kort- och kommunikationstjänster endast i syfte att fullfölja tjänster i anknytning till Smultronsites avtal med dig".', unnamed),
      },
    },
    {
      key: k('processors.invoicing'),
      body: {
        name: 'Samarbetspartner för fakturering',
        service: 'Fakturering "i samband med utförda guidetjänster"',
        dataProcessingAgreement: null,
        notes: lines(`Källa: ${DEMO_SEEDS.smultronsites}.`, 'Policyn: "till Smultronsites samarbetspartner för fakturering i samband med utförda guidetjänster".', unnamed),
      },
    },
  )

  r.retentionRules.push(
    {
      key: k('retention.necessary'),
      body: {
        name: 'Inte längre än vad som är nödvändigt för ändamålet',
        period: null, trigger: null, legalReference: null,
        description: 'Policyn: "Vi kommer inte spara personlig information som vi behandlar längre än vad som är nödvändigt för ändamålet. Vi kan komma att spara uppgifterna längre om det behövs för att följa lagkrav eller för att bevaka Smultronsites rättsliga intressen." Ingen fast tidsgräns anges.',
      },
    },
    {
      key: k('retention.cookies'),
      body: {
        name: 'Sessionscookies och permanenta cookies',
        period: null, trigger: null, legalReference: null,
        description: 'Policyn: "Vi använder två sorters cookies, sessionscookies som försvinner när din webbläsare stängs och permanenta cookies som försvinner efter att giltighetstiden gått ut." Giltighetstiden anges inte.',
      },
    },
  )

  const precautions = 'Policyn: "Vi kommer att vidta rimliga tekniska och organisatoriska försiktighetsåtgärder för att förhindra förlust, missbruk eller ändring av din personliga information." Vilka åtgärderna är anges inte.'
  r.securityMeasures.push(
    { key: k('security.technical'), body: { name: 'Rimliga tekniska försiktighetsåtgärder', type: 'technical', category: 'other', description: precautions } },
    { key: k('security.organisational'), body: { name: 'Rimliga organisatoriska försiktighetsåtgärder', type: 'organisational', category: 'other', description: precautions } },
  )

  const purpose = (key: string, ...codes: string[]) => ({ purposeId: id(k(`purposes.${key}`)), legalBasisIds: basis(...codes) })
  // "Vi kan komma att lämna ut ... som är rimligt nödvändigt för de syften som anges i denna policy": every purpose.
  const disclosedTo = ids(k('recipients.staff'), k('recipients.insurers'), k('recipients.advisers'), k('recipients.suppliers'), k('recipients.by-law'), k('recipients.legal-rights'))
  const common = {
    role: 'controller', status: 'active', controllerId: id('smultronsites'),
    securityMeasureIds: ids(k('security.technical'), k('security.organisational')),
    automatedDecisionMaking: false,
  }
  const necessary = { retentionRuleId: id(k('retention.necessary')) }
  r.processingActivities.push(
    {
      key: k('activity.customers'),
      body: {
        ...common,
        name: 'Beställning, betalning, fakturering och support för kunder',
        description: 'Enligt Smultronsites integritetspolicy: beställning, betalning, support och fakturering "i samband med utförda guidetjänster".',
        purposes: [purpose('obligations'), purpose('payments'), purpose('law'), purpose('legal-rights')],
        dataSubjectCategoryIds: ids(k('subjects.customers')),
        dataCategoryIds: ids(k('data.name'), k('data.contact'), k('data.payment'), k('data.customer-number'), k('data.personnummer'), k('data.organisation-account'), k('data.communication')),
        recipientIds: disclosedTo,
        processorIds: ids(k('processors.card-communication'), k('processors.invoicing')),
        retention: [necessary],
      },
    },
    {
      key: k('activity.website'),
      body: {
        ...common,
        name: 'Webbplatsen: tjänster, profil och kommunikation',
        description: 'Enligt Smultronsites integritetspolicy: tjänsterna på hemsidan, profiler och e-post som användaren har begärt.',
        purposes: [purpose('services'), purpose('requested-email')],
        dataSubjectCategoryIds: ids(k('subjects.users')),
        dataCategoryIds: ids(k('data.name'), k('data.contact'), k('data.ip-usage'), k('data.profile'), k('data.communication')),
        recipientIds: disclosedTo,
        processorIds: ids(k('processors.card-communication')),
        retention: [necessary],
      },
    },
    {
      key: k('activity.newsletter'),
      body: {
        ...common,
        name: 'Nyhetsbrev via e-post',
        description: 'Policyn: "att skicka vårt nyhetsbrev via e-post till dig om du har begärt det (du kan informera oss när som helst om du inte längre behöver nyhetsbrevet)".',
        purposes: [purpose('newsletter')],
        dataSubjectCategoryIds: ids(k('subjects.subscribers')),
        dataCategoryIds: ids(k('data.name'), k('data.contact')),
        recipientIds: disclosedTo,
        retention: [necessary],
      },
    },
    {
      key: k('activity.publication'),
      body: {
        ...common,
        name: 'Publicering av personlig information på hemsidan',
        description: 'Policyn: "i enlighet med det tillstånd du ger oss" – samtycke.',
        purposes: [purpose('publication', 'A6-1-a')],
        dataSubjectCategoryIds: ids(k('subjects.users')),
        dataCategoryIds: ids(k('data.publication')),
        recipientIds: disclosedTo,
        retention: [necessary],
      },
    },
    {
      key: k('activity.cookies'),
      body: {
        ...common,
        name: 'Cookies och statistik om användarna',
        description: 'Policyn: "Genom att samtycka till att vi använder kakor när du besöker vår hemsida för första gången tillåter du oss att använda kakor varje gång du besöker vår hemsida."',
        purposes: [purpose('cookies', 'A6-1-a'), purpose('statistics')],
        dataSubjectCategoryIds: ids(k('subjects.users')),
        dataCategoryIds: ids(k('data.cookies'), k('data.ip-usage')),
        recipientIds: [...disclosedTo, id(k('recipients.statistics'))],
        retention: [necessary, { retentionRuleId: id(k('retention.cookies')), dataCategoryIds: ids(k('data.cookies')) }],
        dataSources: ['Cookies: "en textfil som innehåller information som sparas på din dator"'],
      },
    },
  )
  return r
}

// ---------------------------------------------------------------------------------------------
// 002 and 003: the clinics' shared template (Allavie AB / Hudateljén; Wellnesskliniken i Östersund AB)

const CLINIC = {
  purpose: 'Inloggning på Internetbokning, tidbokning, köp, marknadsföring, kundservice, rättslig förpliktelse samt hantering av förmåner och erbjudanden',
  processing: lines(
    'Behandlingar som utförs (policyn):',
    '• Mottagande av bokningar, om- och avbokningar.',
    '• Utskick av kommunikation kring bokningen.',
    '• Ev. leveranser (inklusive avisering och kontakter rörande leveransen).',
    '• Ev. Identifikation och ålderskontroll.',
    '• Betalningar (inklusive ev. kreditupplysning).',
    '• Ev. adresskontroll.',
    '• Hantering av reklamations- och garantiärenden.',
    '• Uppfyllande av lagkrav, domslut eller myndighetsbeslut (t.ex. bokföringslagen, penningtvättslagen eller regler om produktansvar och säkerhet, vilka kan kräva kommunikation och information om produktlarm och produktåterkallelser).',
    '• Skapandet av personliga och generella erbjudanden, anpassade nyheter, produktrekommendationer, inspiration och förmåner.',
  ),
  legalBasis: 'Rättslig grund: Fullgörande av tjänste-/köpeavtalet samt berättigat intresse. Insamling av dina personuppgifter krävs för att vi ska kunna fullgöra våra åtaganden och bevilja dig bokning/köp.',
  retention: 'Lagringsperiod: 36 månader efter senaste besök i syfte att kunna hantera eventuella reklamations- och garantiärenden. Du kan avanmäla dig från ytterligare erbjudanden, nyheter, rekommendationer, inspiration och förmåner genom att följa instruktionerna i ett mottaget sådant meddelande.',
  processors: 'Policyn: "När det är nödvändigt för att kunna erbjuda våra tjänster delar vi dina personuppgifter med företag som är s.k. personuppgiftsbiträden för hjälp med: ..."',
  cookies: 'Policyn: "Vi använder cookies för övergripande analytisk information avseende din användning av våra tjänster och för att spara funktionella inställningar så som språk och andra uppgifter."',
  complaints: 'Policyn hänvisar klagomål till "Datainspektionen via mail till datainspektionen@datainspektionen.se"; myndigheten heter sedan 2021 Integritetsskyddsmyndigheten (IMY).',
}

/** One clinic policy: its records, kept by the controller (and its joint controllers) of `prefix`. */
function clinic(prefix: string, controllerKey: string, jointControllerKeys: string[], clinicName: string): DemoRegister {
  const k = (key: string): string => `${prefix}.${key}`
  const r = empty()
  const seed = DEMO_SEEDS[controllerKey as keyof typeof DEMO_SEEDS]

  r.dataSubjectCategories.push({
    key: k('subjects.customers'),
    body: { name: 'Kunder', description: `Den som bokar tid, köper eller loggar in på Internetbokning hos ${clinicName} ("bevilja dig bokning/köp").` },
  })

  r.dataCategories.push(
    { key: k('data.name'), body: { name: 'Namn', classification: 'ordinary', description: 'Policyn, "Kategori av personuppgifter": "Namn".' } },
    { key: k('data.contact'), body: { name: 'Kontaktuppgifter (adress, e-post och telefonnummer)', classification: 'ordinary', description: 'Policyn: "Kontaktuppgifter (adress, e-post och telefon-nummer)".' } },
    {
      key: k('data.photos-notes'),
      body: {
        name: 'Bilder/foton och anteckningar du själv väljer att lämna', classification: 'special', specialCategory: 'health',
        description: 'Policyn: "Ev. bilder/foton och anteckningar du själv väljer att lämna." Hos en klinik är det mycket sannolikt uppgifter om hälsa (art. 9.1); klassificeringen är registrets bedömning – policyn kallar dem inte känsliga och anger inget villkor enligt art. 9.2.',
      },
    },
    { key: k('data.booking'), body: { name: 'Boknings- och köpinformation', classification: 'ordinary', description: 'Policyn, "Kategori av personuppgifter": "Boknings- och köpinformation".' } },
    { key: k('data.cookies'), body: { name: 'Cookies: analytisk information och funktionella inställningar', classification: 'ordinary', description: CLINIC.cookies } },
  )

  r.purposes.push(
    { key: k('purposes.main'), body: { name: CLINIC.purpose, description: CLINIC.processing } },
    { key: k('purposes.cookie-analytics'), body: { name: 'Övergripande analytisk information om användningen av våra tjänster', description: CLINIC.cookies } },
    { key: k('purposes.cookie-settings'), body: { name: 'Spara funktionella inställningar så som språk', description: CLINIC.cookies } },
  )

  const processor = (key: string, name: string, service: string): DemoEntry<ProcessorWrite> => ({
    key: k(`processors.${key}`),
    body: {
      name, service, dataProcessingAgreement: null,
      notes: lines(`Källa: ${seed}.`, `${CLINIC.processors} "${service} (${name.charAt(0).toLowerCase()}${name.slice(1)})."`, 'En kategori av personuppgiftsbiträden: inget företag namnges; organisationsnummer, land och biträdesavtal anges inte.'),
    },
  })
  r.processors.push(
    processor('logistics', 'Logistikföretag och speditörer', 'Transporter'),
    processor('payments', 'Kortinlösande företag, banker och andra betaltjänstleverantörer', 'Betallösningar'),
    processor('marketing', 'Print och distribution, sociala medier, mediebyråer eller reklambyråer', 'Marknadsföring'),
    processor('it', 'Företag som hanterar nödvändig drift, teknisk support och underhåll av våra IT-lösningar', 'IT-tjänster'),
  )

  r.retentionRules.push({
    key: k('retention.36-months'),
    body: {
      name: '36 månader efter senaste besök',
      period: 'P36M',
      trigger: 'efter senaste besök',
      legalReference: 'Policyns skäl: "i syfte att kunna hantera eventuella reklamations- och garantiärenden"',
      description: lines(
        `Policyn: "${CLINIC.retention}"`,
        'Policyn säger också att radering kan nekas "ifall det finns legala skyldigheter från bokförings- och skattelagstiftning, bank- och penningtvätts-lagstiftning, men också från konsumenträtts-lagstiftning", men anger ingen lagringstid för dessa.',
      ),
    },
  })

  r.securityMeasures.push(
    { key: k('security.it-systems'), body: { name: 'IT-system som skyddar sekretessen, integriteten och tillgången till personuppgifter', type: 'technical', category: 'other', description: 'Policyn: "Vi använder IT-system för att skydda sekretessen, integriteten och tillgången till personuppgifter." Vilka system anges inte.' } },
    { key: k('security.special-measures'), body: { name: 'Särskilda säkerhetsåtgärder hos oss och våra leverantörer', type: 'organisational', category: 'other', description: 'Policyn: "Vi och våra leverantörer har vidtagit särskilda säkerhetsåtgärder för att skydda dina personuppgifter mot olovlig eller obehörig behandling (såsom olovlig tillgång, förlust, förstörelse eller skada)." Vilka åtgärderna är anges inte.' } },
  )

  const common = {
    role: 'controller', status: 'active', controllerId: id(controllerKey), jointControllerIds: ids(...jointControllerKeys),
    securityMeasureIds: ids(k('security.it-systems'), k('security.special-measures')),
    automatedDecisionMaking: false,
  }
  r.processingActivities.push(
    {
      key: k('activity.customers'),
      body: {
        ...common,
        name: 'Internetbokning, tidbokning, köp, marknadsföring och kundservice',
        description: lines(`Enligt integritetspolicyn för ${clinicName}.`, CLINIC.legalBasis),
        // The policy gives one legal-basis line for the whole purpose row: contract and legitimate interest.
        purposes: [{ purposeId: id(k('purposes.main')), legalBasisIds: basis('A6-1-b', 'A6-1-f'), legitimateInterest: null, liaReference: null }],
        dataSubjectCategoryIds: ids(k('subjects.customers')),
        dataCategoryIds: ids(k('data.name'), k('data.contact'), k('data.photos-notes'), k('data.booking')),
        processorIds: ids(k('processors.logistics'), k('processors.payments'), k('processors.marketing'), k('processors.it')),
        retention: [{ retentionRuleId: id(k('retention.36-months')) }],
        dataSources: ['Den registrerade själv: "bilder/foton och anteckningar du själv väljer att lämna"'],
        systems: ['Internetbokning'],
      },
    },
    {
      key: k('activity.cookies'),
      body: {
        ...common,
        name: 'Cookies på webbplatsen',
        description: 'Policyn: "Cookies är en textfil bestående av bokstäver och siffror som skickas från vår webserver och sparas på din webbläsare. Några av våra tjänster behöver cookies för att fungera korrekt, medan andra förbättrar tjänsterna för dig."',
        purposes: [{ purposeId: id(k('purposes.cookie-analytics')) }, { purposeId: id(k('purposes.cookie-settings')) }],
        dataSubjectCategoryIds: ids(k('subjects.customers')),
        dataCategoryIds: ids(k('data.cookies')),
        retention: [],
        dataSources: ['Cookies som "skickas från vår webserver och sparas på din webbläsare"'],
      },
    },
  )
  return r
}

function allavie(): DemoRegister {
  const r = clinic('allavie', 'allavie', ['hudateljen'], 'Allavie AB / Hudateljén')
  const sharedNote = lines(
    `Källa: ${DEMO_SEEDS.allavie}. Policyn anger som personuppgiftsansvariga "Allavie AB / Hudateljén" (gemensamt personuppgiftsansvariga, art. 26) och som e-post "info@allavieclinic.com / hudateljén@allavieclinic.com".`,
    'Vilken e-postadress som hör till vilket företag sägs inte; registret följer ordningen i policyn (info@… för Allavie AB, hudateljén@… för Hudateljén). Telefon 063-512545 anges en gång, för båda.',
    'Policyn beskriver inte de gemensamt ansvarigas inbördes ansvar (art. 26.1–2).',
    CLINIC.complaints,
  )
  r.controllers.push(
    {
      key: 'allavie',
      body: {
        name: 'Allavie AB', organisationNumber: null, address: null,
        email: 'info@allavieclinic.com', phone: '063-512545', country: 'SE', website: null,
        representative: null, dataProtectionOfficer: null,
        notes: lines(sharedNote, 'Policyn anger inget organisationsnummer, ingen postadress, ingen webbplats och inget dataskyddsombud. Land SE är härlett (svenskt riktnummer, aktiebolag), inte angivet.'),
      },
    },
    {
      key: 'hudateljen',
      body: {
        name: 'Hudateljén', organisationNumber: null, address: null,
        email: 'hudateljén@allavieclinic.com', phone: '063-512545', country: 'SE', website: null,
        representative: null, dataProtectionOfficer: null,
        notes: lines(
          sharedNote,
          'Policyn anger ingen bolagsform och inget organisationsnummer för Hudateljén: om det är ett eget företag eller ett namn som Allavie AB använder framgår inte.',
          'E-postadressens lokala del innehåller "é" (hudateljén@allavieclinic.com), vilket kräver stöd för internationaliserade adresser (SMTPUTF8); återgiven som den står.',
          'Ingen postadress, ingen webbplats, inget dataskyddsombud. Land SE är härlett, inte angivet.',
        ),
      },
    },
  )
  return r
}

function wellnesskliniken(): DemoRegister {
  const r = clinic('wellnesskliniken', 'wellnesskliniken', [], 'Wellnesskliniken i Östersund AB')
  r.controllers.push({
    key: 'wellnesskliniken',
    body: {
      name: 'Wellnesskliniken i Östersund AB', organisationNumber: null,
      address: 'Prästg. 31',
      email: 'info@wellnesskliniken.se', phone: '063102000', country: 'SE', website: null,
      representative: null, dataProtectionOfficer: null,
      notes: lines(
        `Källa: ${DEMO_SEEDS.wellnesskliniken}.`,
        'Adressen står bara i rubriken "INTEGRITET-/PERSONUPPGIFTSHANTERING PÅ: Prästg. 31", utan postnummer och ort.',
        'Policyn är samma mall som Allavie AB / Hudateljéns. Den anger inget organisationsnummer, ingen webbplats och inget dataskyddsombud. Land SE är härlett (Östersund i firman), inte angivet.',
        CLINIC.complaints,
      ),
    },
  })
  return r
}

// ---------------------------------------------------------------------------------------------
// 004: 5D-portalen (Håkan Berggren)

function fiveDPortalen(): DemoRegister {
  const k = (key: string): string => `5d-portalen.${key}`
  const r = empty()
  r.controllers.push({
    key: '5d-portalen',
    body: {
      name: 'Håkan Berggren – 5dportalen',
      organisationNumber: null,
      address: 'Hallbergavägen 20, 864 92 Matfors',
      email: 'info@5dportalen.se',
      phone: null,
      country: 'SE',
      website: '5dportalen.se',
      representative: null,
      dataProtectionOfficer: null,
      notes: lines(
        `Källa: ${DEMO_SEEDS['5d-portalen']}, integritetspolicy för 5D-portalen, "Denna integritetspolicy gäller för: 5dportalen.se".`,
        'Personuppgiftsansvarig är en enskild person: "Håkan Berggren, Hallbergavägen 20, 864 92 Matfors är personuppgiftsansvarig för behandlingen av dina personuppgifter."',
        'Motsägelse, e-post: "För frågor gällande denna integritetspolicy kan du nå mig via e-post info@5dportalen.se", men under Kontaktinformation "E-post: info@5d-portalen.se". Registret anger den första, som står vid den personuppgiftsansvarige.',
        'Motsägelse, namn och ansvar: under Allmänt "5D-portalen (Håkan Beggren och Helene Telin)", annars "Håkan Berggren". Helene Telin nämns bara där; om hon är gemensamt personuppgiftsansvarig framgår inte.',
        'Postnumret skrivs både "864 92" och "86492".',
        'Policyn anger inget telefonnummer och inget dataskyddsombud. Land SE är härlett ur adressen (Matfors), inte angivet.',
      ),
    },
  })

  r.dataSubjectCategories.push(
    { key: k('subjects.customers'), body: { name: 'Kunder', description: 'Policyn: "för att hantera vår kundrelation med dig", "din registrering", "ditt konto".' } },
    { key: k('subjects.visitors'), body: { name: 'Besökare på 5dportalen.se', description: 'Policyn: "Cookies kan även komma att användas för att analysera vilka sökningar du gjort och sidor du har besökt på 5dportalen.se."' } },
  )

  const listed = (key: string, name: string, description?: string): DemoEntry<DataCategoryWrite> =>
    ({ key: k(`data.${key}`), body: { name, classification: 'ordinary', description: description ?? `Policyn: "${name}".` } })
  r.dataCategories.push(
    listed('basic', 'Grundläggande information: namn'),
    listed('contact', 'Kontaktinformation: e-postadress'),
    listed('account', 'Konto- och profilinformation: inställningar, preferenser'),
    listed('payment', 'Betalningsinformation: transaktionsinformation, betalningsmedel', 'Policyn: "Betalningsinformation: Transaktionsinformation, betalningsmedel".'),
    listed('history', 'Kundhistorik och kundengagemang: beställnings- och leveransinformation, rabattkoder'),
    listed('products', 'Aktiva produkter och avtal samt produkter och tjänster som du tidigare har haft, hur mycket och hur ofta de används, status för produkter/tjänster'),
    listed('activity', 'Kundaktivitet: läs- och handlingshistorik samt teknisk information om enheterna du använder', 'Policyn: "Kundaktivitet: läs- och handlingshistorik från webbplatsen eller elektronisk kommunikation vi skickar ut. Samt teknisk information om enheterna du använder."'),
    listed('cookies', 'Cookies', 'Listad som kategori av personuppgifter ("Cookies"), men policyn säger också: "Cookies innehåller ingen personlig information utan informationen i textfilerna består av bokstäver och siffror." och att de kan "hjälpa till att identifiera dig när du återvänder".'),
  )

  r.purposes.push(
    { key: k('purposes.customer-relations'), body: { name: 'Hantering av kundrelationer', description: 'Policyn: "Vi använder dina personuppgifter för att hantera vår kundrelation med dig. Det kan till exempel handla om kundtjänst eller felsökning gällande ditt konto. Den rättsliga grunden för att behandla personuppgifter för detta ändamål är att behandlingen är nödvändig för att uppfylla ett avtal med dig."' } },
    { key: k('purposes.marketing'), body: { name: 'Försäljning och marknadsföring', description: 'Policyn: "Vi använder personuppgifter i samband med försäljning och marknadsföring av våra produkter och tjänster, till exempel genom att du får e-post från oss. Den rättsliga grunden för att behandla personuppgifter för detta ändamål är vårt berättigade intresse. Du har möjlighet att reservera dig från delar av denna behandling genom att till exempel reservera dig från att få e-post från oss."' } },
    { key: k('purposes.profiling'), body: { name: 'Profilering för mer relevant marknadsföring', description: 'Policyn: "Utöver detta kan vi också be dig om samtycke att använda dina personuppgifter för så kallad profilering, där vi drar slutsatser om dina intressen och behov utifrån dina personuppgifter. Syftet med profileringen är att vår marknadsföring ska bli mer relevant."' } },
    { key: k('purposes.monitoring'), body: { name: 'Systemövervakning, felsökning m.m.', description: 'Policyn: "Vi övervakar våra system för fel och problem. En del av dessa processer innebär lagring och behandling av personuppgifter. Den rättsliga grunden för att behandla personuppgifter för detta ändamål är vårt berättigade intresse."' } },
    { key: k('purposes.cookie-functions'), body: { name: 'Grundläggande funktioner och bättre användarupplevelse', description: 'Policyn: cookies "kan sedan läsas av webbplatserna och hjälpa till att identifiera dig när du återvänder, vilket ofta används för grundläggande funktioner och annat som förbättrar din användarupplevelse."' } },
    { key: k('purposes.cookie-analysis'), body: { name: 'Analysera sökningar och besökta sidor för att förbättra hemsidan och tjänsten', description: 'Policyn: "Cookies kan även komma att användas för att analysera vilka sökningar du gjort och sidor du har besökt på 5dportalen.se. Detta sammantaget visar ett generellt sök- och beteendemönster, vilket är information jag använder för att förbättra hemsidan och tjänsten till dig."' } },
  )

  r.recipients.push({
    key: k('recipients.third-party-cookies'),
    body: {
      name: 'Företag som placerar tredjepartscookies (annonser)', country: null,
      description: 'Policyn: "Tredjepartscookies som ett annat företag placerat på din dator (det är tredjepartscookies som gör att du t.ex. ser annonser på produkter som du tidigare har klickat eller gjort sökningar på)". Företaget och dess land namnges inte.',
    },
  })

  r.processors.push({
    key: k('processors.accounting'),
    body: {
      name: 'Bokföringssystem', service: 'Bokföringssystem', dataProcessingAgreement: null,
      notes: lines(
        `Källa: ${DEMO_SEEDS['5d-portalen']}.`,
        'Policyn: "Vi överför nödvändiga personuppgifter för behandling till andra företag vars tjänster vi nyttjar, så som bokföringssystem. När dina personuppgifter delas med andra företag ska uppgifterna behandlas i enlighet med gällande lagar och regler."',
        'Leverantören namnges inte; organisationsnummer, land och biträdesavtal anges inte.',
      ),
    },
  })

  r.retentionRules.push(
    {
      key: k('retention.necessary'),
      body: {
        name: 'Inte längre än vad som är nödvändigt med hänsyn till ändamålet',
        period: null, trigger: null, legalReference: null,
        description: 'Policyn: "Behandlingen av personuppgifter sker enligt gällande lagstiftning och innebär att lagring av personuppgifter inte sker under en längre tid än vad som är nödvändigt med hänsyn till ändamålet av behandlingen." Ingen fast tidsgräns anges.',
      },
    },
    {
      key: k('retention.cookies'),
      body: {
        name: 'Sessionscookies och permanenta cookies',
        period: null, trigger: null, legalReference: null,
        description: 'Policyn: "Sessionscookies som sparas tillfälligt på din dator när du besöker denna webbplats och tas bort så fort du stänger ner din webbläsare" och "Permanenta cookies som finns kvar på din dator till dess att du tar bort dem".',
      },
    },
  )

  const purpose = (key: string, ...codes: string[]) => ({ purposeId: id(k(`purposes.${key}`)), legalBasisIds: basis(...codes) })
  const common = { role: 'controller', status: 'active', controllerId: id('5d-portalen'), securityMeasureIds: [], systems: ['5dportalen.se'] }
  const generated = '"Personuppgifterna genereras i samband med att du använder våra tjänster och produkter."'
  const necessary = { retentionRuleId: id(k('retention.necessary')) }
  r.processingActivities.push(
    {
      key: k('activity.customer-relations'),
      body: {
        ...common,
        name: 'Hantering av kundrelationer',
        description: 'Policyn: "Personuppgifterna genereras i samband med att du använder våra tjänster och produkter. Uppgifterna behandlas i syfte att kunna tillhandahålla den beställda tjänsten och är därför nödvändig för att via ska kunna hantera din registrering."',
        purposes: [purpose('customer-relations', 'A6-1-b')],
        dataSubjectCategoryIds: ids(k('subjects.customers')),
        dataCategoryIds: ids(k('data.basic'), k('data.contact'), k('data.account'), k('data.payment'), k('data.history'), k('data.products')),
        processorIds: ids(k('processors.accounting')),
        retention: [necessary],
        dataSources: [generated],
        automatedDecisionMaking: false,
      },
    },
    {
      key: k('activity.marketing'),
      body: {
        ...common,
        name: 'Försäljning och marknadsföring',
        description: 'Policyn: marknadsföring på grund av "vårt berättigade intresse"; profilering endast med "samtycke".',
        purposes: [purpose('marketing', 'A6-1-f'), purpose('profiling', 'A6-1-a')],
        dataSubjectCategoryIds: ids(k('subjects.customers')),
        dataCategoryIds: ids(k('data.basic'), k('data.contact'), k('data.account'), k('data.history'), k('data.products'), k('data.activity')),
        retention: [necessary],
        dataSources: [generated, 'Kundaktivitet: "läs- och handlingshistorik från webbplatsen eller elektronisk kommunikation vi skickar ut"'],
        automatedDecisionMaking: true,
        automatedDecisionMakingDescription: 'Profilering: "så kallad profilering, där vi drar slutsatser om dina intressen och behov utifrån dina personuppgifter. Syftet med profileringen är att vår marknadsföring ska bli mer relevant." Policyn nämner inga beslut med rättsliga följder (art. 22.1).',
      },
    },
    {
      key: k('activity.monitoring'),
      body: {
        ...common,
        name: 'Systemövervakning, felsökning m.m.',
        description: 'Policyn: "Vi övervakar våra system för fel och problem. En del av dessa processer innebär lagring och behandling av personuppgifter." Vilka registrerade och vilka personuppgifter anges inte.',
        purposes: [purpose('monitoring', 'A6-1-f')],
        retention: [necessary],
        automatedDecisionMaking: false,
      },
    },
    {
      key: k('activity.cookies'),
      body: {
        ...common,
        name: 'Cookies på 5dportalen.se',
        description: 'Policyn: "En cookie är en liten textfil som sparas på din dator, surfplatta eller mobiltelefon när du besöker olika webbplatser."',
        purposes: [purpose('cookie-functions'), purpose('cookie-analysis')],
        dataSubjectCategoryIds: ids(k('subjects.visitors')),
        dataCategoryIds: ids(k('data.cookies')),
        recipientIds: ids(k('recipients.third-party-cookies')),
        retention: [{ retentionRuleId: id(k('retention.cookies')) }],
        dataSources: ['Cookies som "sparas på din dator, surfplatta eller mobiltelefon när du besöker olika webbplatser"'],
        automatedDecisionMaking: false,
      },
    },
  )
  return r
}

/** The whole demo register, in the order the policies are numbered. */
export const DEMO: DemoRegister = merge(haltea(), smultronsites(), allavie(), wellnesskliniken(), fiveDPortalen())

/** Referenced records first, processing activities last. */
const LOAD_ORDER: [keyof DemoRegister, ResourceDef][] = [
  ['controllers', controllers],
  ['processors', processors],
  ['purposes', purposes],
  ['dataSubjectCategories', dataSubjectCategories],
  ['dataCategories', dataCategories],
  ['recipients', recipients],
  ['retentionRules', retentionRules],
  ['securityMeasures', securityMeasures],
  ['processingActivities', processingActivities],
]

export interface DemoLoadResult {
  /** Per kind of record: how many were created, replaced (they had changed) and left as they were. */
  counts: { type: string; titlePlural: string; created: number; replaced: number; unchanged: number }[]
  controllers: { id: string; name: string }[]
}

/** A write body without its empty parts (null, absent, []), keys sorted: two bodies that mean the same compare equal. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical)
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) {
    const v = canonical((value as Record<string, unknown>)[key])
    if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) continue
    out[key] = v
  }
  return out
}

const sameWrite = (a: unknown, b: unknown): boolean => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b))

/**
 * Loads the demo register into the principal's workspace: each record is created under its
 * stable id, or replaced when it is there but differs, through the same validation and reference
 * checks as the API's POST and PUT. A record that already says what the demo says is left alone,
 * so loading again changes nothing, not even versions.
 */
export async function loadDemo(db: Database, who: Principal, register: DemoRegister = DEMO): Promise<DemoLoadResult> {
  await openWorkspace(db, who.ws, true)
  const result: DemoLoadResult = { counts: [], controllers: [] }
  for (const [field, def] of LOAD_ORDER) {
    const count = { type: def.type, titlePlural: def.titlePlural, created: 0, replaced: 0, unchanged: 0 }
    for (const entry of register[field] as DemoEntry<object>[]) {
      const id = demoId(entry.key)
      const existing = await db.read((m) => getView(m, who.ws, def, id))
      let view = existing
      if (!existing) {
        view = await upsertRecord(db, who, def, id, entry.body)
        count.created++
      } else if (!sameWrite(def.toWrite(existing), entry.body)) {
        view = await upsertRecord(db, who, def, id, entry.body)
        count.replaced++
      } else {
        count.unchanged++
      }
      if (def === controllers) result.controllers.push({ id, name: view!.name })
    }
    result.counts.push(count)
  }
  return result
}
