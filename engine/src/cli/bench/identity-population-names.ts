/**
 * What the identity-matching population is made of, and how often each part occurs: surnames and
 * given names in rough frequency order (drawn Zipf-like, so namesakes happen the way they do in a
 * real registry), nicknames, compound surnames and their alternative spellings, street suffix
 * spellings and cities. All made up; no record describes a real person.
 */
import type { Random } from '../simulator/seeded-random';
import { CITIES, STREET_NAMES } from '../simulator/synthetic-names';

/**
 * Draws from a list whose order is its frequency rank, with weight 1 / (rank + offset)^exponent.
 * The offset flattens the head so the top name is a few percent rather than a sixth of everyone.
 */
export function zipfSampler<T>(items: readonly T[], offset: number, exponent: number): (rng: Random) => T {
  if (items.length === 0) throw new RangeError('zipfSampler needs at least one item');
  const cumulative = new Float64Array(items.length);
  let total = 0;
  for (let rank = 1; rank <= items.length; rank++) {
    total += 1 / Math.pow(rank + offset, exponent);
    cumulative[rank - 1] = total;
  }
  return (rng) => {
    const target = rng.next() * total;
    let lo = 0;
    let hi = items.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cumulative[mid] ?? total) <= target) lo = mid + 1;
      else hi = mid;
    }
    return items[lo] as T;
  };
}

/** Splits a whitespace-separated word list (keeps the long lists below readable and compact). */
function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

/** Splits a comma-separated list, for entries that contain spaces ("Van der Berg"). */
function phrases(text: string): string[] {
  return text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
}

/** Single-word surnames, most common first (after the US census ordering, plus a wider mix). */
export const SURNAMES: readonly string[] = words(`
  Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez
  Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark
  Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams
  Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker
  Cruz Edwards Collins Reyes Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper
  Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James
  Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster
  Jiménez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher
  Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds Griffin Wallace Moreno
  West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford Castro
  Marshall Owens Harrison Fernandez Woods Washington Kennedy Wells Vargas Henry Chen Freeman Webb
  Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason
  Dixon Muñoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren
  Mills Meyer Rice Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne
  Grant Dunn Kelley Spencer Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley Knight
  Elliott Cunningham Duncan Armstrong Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry
  Perkins Hoffman Johnston Matthews Peña Richards Contreras Willis Carpenter Lawrence Sandoval
  Guerrero George Chapman Rios Estrada Ortega Watkins Greene Núñez Wheeler Valdez Harper Burke
  Larson Santiago Maldonado Morrison Franklin Carlson Austin Dominguez Carr Lawson Jacobs Lynch
  Singh Vega Bishop Montgomery Oliver Jensen Harvey Williamson Gilbert Dean Sims Espinoza Howell Li
  Wong Reid Hanson Le Walsh Wang Zhang Liu Huang Pham Vu Park Choi Yang Shah Kumar Gupta Okafor
  Okonkwo Mensah Haddad Khan Ali Hussain Cohen Levy Friedman Kowalski Nowak Novak Müller Schneider
  Becker Fischer Ivanov Petrov Rossi Russo Romano Costa Yamamoto Tanaka Nakamura Sato Suzuki Larsen
  Lindqvist Andersen Kaur Adeyemi Boateng Abdi Nasser Kaplan Weiss
`);

/**
 * Surnames whose spelling systems disagree on: particles, apostrophes and Mc/Mac prefixes.
 * Hyphenated double surnames are built from two {@link SURNAMES} draws instead.
 */
export const PARTICLE_SURNAMES: readonly string[] = phrases(`
  Van der Berg, O'Brien, McDonald, De la Cruz, O'Connor, McCarthy, Van Dyke, O'Neill, MacArthur,
  Del Rio, Da Silva, McKenzie, O'Reilly, Dos Santos, De Leon, MacLeod, Van Buren, La Rosa, Le Blanc,
  D'Angelo, Van Houten, McGregor, DiMaggio, Von Braun, Ten Brink, McIntyre, O'Malley, De Jong,
  MacKinnon, Du Pont
`);

export const FEMALE_NAMES: readonly string[] = words(`
  Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty Margaret
  Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah Stephanie Rebecca
  Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma Nicole Helen Samantha
  Katherine Christine Debra Rachel Carolyn Janet Catherine Maria Heather Diane Ruth Julie Olivia
  Joyce Virginia Victoria Kelly Lauren Christina Joan Evelyn Judith Megan Andrea Cheryl Hannah
  Jacqueline Martha Gloria Teresa Ann Sara Madison Frances Kathryn Janice Jean Abigail Alice Judy
  Sophia Grace Denise Amber Doris Marilyn Danielle Beverly Isabella Theresa Diana Natalie Brittany
  Charlotte Marie Kayla Alexis Lori Ava Mia Priya Mei Fatima Aaliyah Guadalupe Lucía Chloé Zoë Ngozi
`);

export const MALE_NAMES: readonly string[] = words(`
  James Robert John Michael David William Richard Joseph Thomas Christopher Charles Daniel Matthew
  Anthony Mark Donald Steven Andrew Paul Joshua Kenneth Kevin Brian George Timothy Ronald Jason
  Edward Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon Benjamin
  Samuel Gregory Alexander Patrick Frank Raymond Jack Dennis Jerry Tyler Aaron José Adam Nathan
  Henry Zachary Douglas Peter Kyle Noah Ethan Jeremy Walter Christian Keith Roger Terry Austin Sean
  Gerald Carl Harold Dylan Arthur Lawrence Jordan Jesse Bryan Bruce Gabriel Logan Alan Juan Albert
  Willie Elijah Wayne Randy Vincent Mason Roy Ralph Bobby Russell Bradley Philip Eugene Liam Mateo
  Wei Arjun Omar Kwame Darnell Søren Connor
`);

/**
 * Names a registration clerk might be given instead of the legal one. Keys are canonical given
 * names from the lists above; several nicknames are themselves real given names (Billy, Jack,
 * Terry), which is exactly the ambiguity a matcher meets.
 */
export const NICKNAMES: Readonly<Record<string, readonly string[]>> = {
  William: ['Bill', 'Will', 'Billy', 'Liam'],
  Robert: ['Bob', 'Rob', 'Bobby', 'Bert'],
  Elizabeth: ['Liz', 'Beth', 'Betsy', 'Eliza'],
  Margaret: ['Peggy', 'Maggie', 'Meg', 'Marge'],
  Richard: ['Dick', 'Rick', 'Rich', 'Ricky'],
  Katherine: ['Kate', 'Katie', 'Kathy', 'Kat'],
  Catherine: ['Cathy', 'Cate', 'Kate'],
  Kathleen: ['Kathy', 'Kath'],
  Kathryn: ['Kathy', 'Kate'],
  James: ['Jim', 'Jimmy', 'Jamie'],
  Jennifer: ['Jen', 'Jenny'],
  Michael: ['Mike', 'Mikey', 'Mick'],
  Christopher: ['Chris', 'Topher'],
  Anthony: ['Tony'],
  Joseph: ['Joe', 'Joey'],
  Thomas: ['Tom', 'Tommy'],
  Daniel: ['Dan', 'Danny'],
  Charles: ['Chuck', 'Charlie'],
  Edward: ['Ed', 'Ted', 'Eddie'],
  Alexander: ['Alex', 'Xander'],
  Patricia: ['Pat', 'Patty', 'Trish'],
  Susan: ['Sue', 'Susie'],
  Deborah: ['Deb', 'Debbie'],
  Debra: ['Deb', 'Debbie'],
  Rebecca: ['Becky', 'Becca'],
  John: ['Jack', 'Johnny'],
  David: ['Dave', 'Davey'],
  Matthew: ['Matt'],
  Andrew: ['Andy', 'Drew'],
  Steven: ['Steve'],
  Stephen: ['Steve'],
  Kenneth: ['Ken', 'Kenny'],
  Timothy: ['Tim', 'Timmy'],
  Ronald: ['Ron', 'Ronnie'],
  Jeffrey: ['Jeff'],
  Nicholas: ['Nick', 'Nicky'],
  Jonathan: ['Jon'],
  Benjamin: ['Ben', 'Benny'],
  Samuel: ['Sam', 'Sammy'],
  Gregory: ['Greg'],
  Patrick: ['Pat'],
  Raymond: ['Ray'],
  Gerald: ['Jerry'],
  Lawrence: ['Larry'],
  Douglas: ['Doug'],
  Zachary: ['Zach'],
  Joshua: ['Josh'],
  Jacob: ['Jake'],
  Donald: ['Don', 'Donnie'],
  Peter: ['Pete'],
  Philip: ['Phil'],
  Eugene: ['Gene'],
  Walter: ['Walt'],
  Albert: ['Al', 'Bert'],
  Barbara: ['Barb'],
  Dorothy: ['Dot', 'Dottie'],
  Pamela: ['Pam'],
  Cynthia: ['Cindy'],
  Christine: ['Chris', 'Chrissy'],
  Christina: ['Tina', 'Chris'],
  Sandra: ['Sandy'],
  Samantha: ['Sam', 'Sammie'],
  Victoria: ['Vicky', 'Tori'],
  Jacqueline: ['Jackie'],
  Judith: ['Judy'],
  Theresa: ['Terri', 'Tess'],
  Teresa: ['Terry'],
  Abigail: ['Abby'],
  Kimberly: ['Kim'],
  Stephanie: ['Steph'],
  Melissa: ['Missy', 'Mel'],
  Amanda: ['Mandy'],
  Alexis: ['Lexi'],
  Frances: ['Fran', 'Frankie'],
  Virginia: ['Ginny'],
  Beverly: ['Bev'],
  Danielle: ['Dani'],
  Natalie: ['Nat'],
  Isabella: ['Bella', 'Izzy'],
  Madison: ['Maddie'],
  Olivia: ['Liv'],
};

/**
 * Spellings another system may hold for a compound surname, never the original itself:
 * "Garcia-Lopez" → "Garcia Lopez" / "Garcia"; "Van der Berg" → "VanderBerg" / "Vanderberg" /
 * "Van Der Berg"; "O'Brien" → "OBrien" / "Obrien" / "O Brien"; "McDonald" → "Mcdonald" / "Mc Donald".
 */
export function compoundVariants(family: string): string[] {
  const out = new Set<string>();
  if (family.includes('-')) {
    const parts = family.split('-');
    out.add(parts.join(' '));
    // Only the paternal surname survives in many US registration systems.
    out.add(parts[0] ?? family);
  } else {
    const collapsed = family.replace(/[\s']/g, '');
    out.add(collapsed);
    out.add(collapsed.charAt(0) + collapsed.slice(1).toLowerCase());
    out.add(family.replace(/'/g, ' '));
    out.add(family.replace(/([a-z])([A-Z])/g, '$1 $2'));
    out.add(family.replace(/\b([a-z])/g, (c) => c.toUpperCase()));
  }
  out.delete(family);
  return [...out];
}

/** Extra streets so that, with {@link STREET_NAMES}, addresses rarely collide by accident. */
export const STREETS: readonly string[] = [
  ...STREET_NAMES,
  ...phrases(`
    Walnut, Chestnut, Willow, Birch, Hickory, Poplar, Sycamore, Magnolia, Dogwood, Aspen, Franklin,
    Adams, Madison, Monroe, Jackson, Grant, Union, Market, Center, Broad, High, Front, Water, Bridge,
    Railroad, Ridge, Valley, Prospect, Pleasant, Summit, Cherry, Orchard, Fairview, Woodland,
    Lakeview, Hillcrest, Greenwood, College, School, Academy, Mill Creek, Country Club, Deer Run,
    Fox Hollow, Quail
  `),
];

/** Street suffixes with the spellings feeds use for each; the first is the USPS long form. */
export const STREET_SUFFIX_SPELLINGS: readonly (readonly string[])[] = [
  ['Street', 'St', 'St.', 'ST'],
  ['Avenue', 'Ave', 'Ave.', 'AVE', 'Av'],
  ['Road', 'Rd', 'Rd.', 'RD'],
  ['Drive', 'Dr', 'Dr.', 'DR'],
  ['Lane', 'Ln', 'LN'],
  ['Court', 'Ct', 'CT'],
  ['Boulevard', 'Blvd', 'BLVD'],
  ['Place', 'Pl', 'PL'],
  ['Way'],
];

/** City, state, first three ZIP digits and area code; the simulator's cities plus a wider spread. */
export const PLACES: readonly {
  readonly city: string;
  readonly state: string;
  readonly zip3: string;
  readonly area: string;
}[] = [
  ...CITIES,
  { city: 'Aurora', state: 'CO', zip3: '800', area: '303' },
  { city: 'Bloomington', state: 'IN', zip3: '474', area: '812' },
  { city: 'Clinton', state: 'IA', zip3: '527', area: '563' },
  { city: 'Georgetown', state: 'TX', zip3: '786', area: '512' },
  { city: 'Arlington', state: 'VA', zip3: '222', area: '703' },
  { city: 'Dayton', state: 'OH', zip3: '454', area: '937' },
  { city: 'Lexington', state: 'KY', zip3: '405', area: '859' },
  { city: 'Portland', state: 'ME', zip3: '041', area: '207' },
  { city: 'Burlington', state: 'VT', zip3: '054', area: '802' },
  { city: 'Ann Arbor', state: 'MI', zip3: '481', area: '734' },
  { city: 'Boise', state: 'ID', zip3: '837', area: '208' },
  { city: 'Albany', state: 'NY', zip3: '122', area: '518' },
];

/** Domains reserved for examples (RFC 2606), so no generated address can reach anyone. */
export const EMAIL_DOMAINS: readonly string[] = ['example.com', 'example.net', 'example.org', 'mail.example'];
