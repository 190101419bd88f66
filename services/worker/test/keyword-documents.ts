// A small keyword test set: real-looking documents of different kinds, each with the terms a reader
// would expect among its keywords (lemmas, lowercase). A keyword counts as a hit when it is one of
// them or a phrase that contains one ("mushroom risotto" hits "risotto"); a generic word never does.

export interface KeywordDocument {
  kind: string;
  text: string;
  expected: string[];
}

export const KEYWORD_DOCUMENTS: KeywordDocument[] = [
  {
    kind: "business report",
    text: `Northwind Coffee: results for the third quarter

Revenue rose 14% year over year to 48 million euros, driven by the subscription service, which now counts 212,000 subscribers. The main growth came from the new espresso subscription, launched in the second month of the quarter. Gross margin fell to 38% because green coffee prices stayed high all year and shipping costs rose again.

The roastery in Hamburg ran at full capacity for most of the quarter. A second roastery line opens next year and should lower unit costs. Wholesale revenue from cafés was flat, and the open orders from hotel chains remain low.

For the full year we expect revenue of 190 million euros and an operating margin of 9%. The board approved a dividend of 0.40 euros per share. Our main risks are coffee prices, currency swings and a weaker subscription renewal rate, which fell to 81% this quarter from 84% a year ago. Each month we review pricing for the subscription plans.`,
    expected: [
      "revenue",
      "subscription",
      "coffee",
      "margin",
      "roastery",
      "subscriber",
      "dividend",
      "wholesale",
      "northwind",
      "espresso",
      "price",
    ],
  },
  {
    kind: "technical note",
    text: `Postmortem: connection pool exhaustion in the billing API

On Tuesday the billing API returned errors for 47 minutes. Every request that needed the database waited for a connection, timed out after 30 seconds and failed. The connection pool had 20 connections, and all of them were held by a slow report query that scanned the invoices table without an index.

The report query ran inside a transaction, so each connection stayed checked out until the query finished. New requests queued behind it, the queue grew, and the load balancer marked every instance unhealthy. Restarting the instances freed the connections but the report job started again and the pool was exhausted a second time.

We added an index on invoices.customer_id, moved the report to a read replica and set a statement timeout of 5 seconds on the API's database role. The connection pool now has a separate small pool for reports. We also added an alert on pool wait time, so a new exhaustion pages the on-call engineer before customers notice errors.`,
    expected: [
      "connection pool",
      "connection",
      "pool",
      "billing api",
      "report query",
      "query",
      "index",
      "database",
      "invoice",
      "read replica",
      "timeout",
      "exhaustion",
      "transaction",
    ],
  },
  {
    kind: "news",
    text: `City council approves new tram line to the airport

The city council voted 31 to 12 on Thursday to build a tram line between the central station and the airport. The line will be 14 kilometres long, with nine stops, and is expected to open in 2029. It will cost 620 million euros, of which the national government pays half.

Supporters said the tram would cut car traffic on the airport motorway, where congestion has grown every year. Opponents on the council argued that the cost was too high and that an express bus would serve travellers just as well for a fraction of the price.

Construction starts next spring on the section through the old harbour district, where residents worry about noise and months of closed streets. The transport department promised night work only in exceptional cases. The mayor called the vote "the most important transport decision of this decade" and said the tram would carry 40,000 passengers a day.`,
    expected: [
      "tram",
      "tram line",
      "airport",
      "city council",
      "council",
      "transport",
      "construction",
      "congestion",
      "mayor",
      "passenger",
      "vote",
    ],
  },
  {
    kind: "recipe",
    text: `Mushroom risotto

Warm 1.2 litres of vegetable stock in a saucepan and keep it at a low simmer. In a wide pan, melt 30 g of butter with a spoon of olive oil and cook one chopped onion until soft. Add 300 g of sliced mushrooms and fry them over a high heat until golden.

Stir in 320 g of arborio rice and toast it for two minutes, until the grains turn translucent at the edges. Pour in a glass of dry white wine and let it bubble away. Add the hot stock one ladle at a time, stirring often, and wait until the rice has absorbed each ladle before adding the next. After about 18 minutes the rice should be creamy but still firm in the middle.

Take the pan off the heat, beat in the rest of the butter and 60 g of grated parmesan, and leave the risotto to rest for two minutes. Season with salt and pepper and serve with chopped parsley. The main thing is patience: a good risotto cannot be rushed.`,
    expected: [
      "risotto",
      "mushroom",
      "rice",
      "arborio rice",
      "stock",
      "butter",
      "parmesan",
      "white wine",
      "ladle",
      "onion",
    ],
  },
  {
    kind: "legal",
    text: `Data processing agreement

This agreement governs the processing of personal data by the processor on behalf of the controller under the services agreement. The processor shall process personal data only on documented instructions from the controller, including with regard to transfers of personal data to a third country.

The processor shall ensure that persons authorised to process the personal data have committed themselves to confidentiality. The processor shall implement appropriate technical and organisational measures to ensure a level of security appropriate to the risk. The processor shall not engage a sub-processor without the prior written authorisation of the controller.

In the event of a personal data breach, the processor shall notify the controller without undue delay and in any case within 48 hours of becoming aware of the breach. On termination of the services agreement, the processor shall delete or return all personal data to the controller, at the choice of the controller, and delete existing copies. This agreement remains in force for as long as the processor processes personal data for the controller.`,
    expected: [
      "personal data",
      "processor",
      "controller",
      "data breach",
      "breach",
      "sub-processor",
      "confidentiality",
      "security",
      "agreement",
      "data processing",
    ],
  },
  {
    kind: "science news",
    text: `Ocean heatwaves are lasting longer, study finds

Marine heatwaves, periods when sea surface temperatures stay unusually high for days or weeks, have become longer and more frequent over the past four decades, according to a study published this month. The researchers analysed satellite measurements of sea surface temperature from 1982 to 2022.

They found that the average marine heatwave now lasts 20 days, up from 12 days in the early years of the record, and that the number of heatwave days per year has more than doubled. The North Atlantic and the western Pacific showed the largest increase.

Heatwaves harm coral reefs, kelp forests and fisheries. During a heatwave off Western Australia, kelp forests shrank by a third and did not recover for years. The authors say that most of the change can be explained by the long-term warming of the ocean, and that heatwaves will keep getting longer unless greenhouse gas emissions fall. A main open question is how quickly marine species can move to cooler water.`,
    expected: [
      "marine heatwave",
      "heatwave",
      "ocean",
      "sea surface temperature",
      "temperature",
      "coral reef",
      "kelp forest",
      "kelp",
      "warming",
      "fishery",
      "satellite",
    ],
  },
  {
    kind: "product review",
    text: `Review: the Aria X2 noise-cancelling headphones

The Aria X2 are the best wireless headphones I have used this year, with one big caveat. The noise cancelling is excellent: on a train the engine rumble simply disappears, and in an open-plan office the chatter drops to a murmur. Sound quality is warm and detailed, with bass that stays tight at high volume.

Battery life is rated at 30 hours with noise cancelling on, and in my tests the headphones lasted 28 hours, which is close enough. Charging is by USB-C, and ten minutes of charging gives about three hours of playback.

The caveat is comfort. The headband presses on the top of the head, and after two hours I needed a break. People with larger heads may find the ear cups too small. The companion app is simple and lets you tune the equaliser and the level of noise cancelling. At 349 euros the Aria X2 cost more than their main rivals, but for frequent travellers the noise cancelling alone may justify the price.`,
    expected: [
      "headphone",
      "noise cancelling",
      "noise",
      "aria x2",
      "aria",
      "battery life",
      "battery",
      "sound quality",
      "comfort",
      "headband",
      "ear cup",
    ],
  },
  {
    kind: "health advice",
    text: `How much sleep do teenagers need?

Teenagers need between eight and ten hours of sleep a night, yet most get less than seven on school nights. During puberty the body clock shifts later, so teenagers feel sleepy later in the evening and find it hard to wake up early for school.

Lack of sleep affects mood, concentration and memory, and makes accidents more likely. Studies of schools that moved their start time later, even by half an hour, found that students slept longer, missed fewer classes and had better grades.

Parents can help by keeping a regular sleep schedule, also at the weekend, and by keeping phones and screens out of the bedroom at night. Bright light from screens delays the release of melatonin, the hormone that signals the body that it is time to sleep. Caffeine in the afternoon, from coffee, cola or energy drinks, also makes it harder to fall asleep. If a teenager still struggles to sleep for more than a month, a doctor can check for a sleep disorder.`,
    expected: [
      "sleep",
      "teenager",
      "school",
      "body clock",
      "melatonin",
      "screen",
      "caffeine",
      "sleep schedule",
      "sleep disorder",
      "puberty",
      "start time",
    ],
  },
];

/** Words that say nothing about a document's subject; none may be among its top five keywords. */
export const GENERIC_WORDS = ["year", "month", "low", "main", "new", "open", "high", "day", "time", "week"];

/** Is this keyword one of the expected terms, or a phrase containing one as whole words? Plurals match. */
export function isHit(keyword: string, expected: readonly string[]): boolean {
  const singular = (phrase: string) =>
    ` ${phrase
      .toLowerCase()
      .split(/\s+/)
      .map((w) => (w.length > 3 ? w.replace(/(?<=[^s])s$/, "") : w))
      .join(" ")} `;
  const k = singular(keyword);
  return expected.some((e) => k.includes(singular(e)));
}

/** Precision at 5: the share of the first five keywords that are hits. */
export function precisionAt5(keywords: readonly string[], expected: readonly string[]): number {
  const top = keywords.slice(0, 5);
  return top.filter((k) => isHit(k, expected)).length / 5;
}
