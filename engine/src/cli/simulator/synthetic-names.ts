/**
 * Word lists the simulated population is drawn from. Every person the simulator sends is made
 * up from these, so feeds look real to mappings and analysts while carrying no real PHI.
 */

export const FEMALE_GIVEN = [
  'Olivia',
  'Emma',
  'Ava',
  'Sophia',
  'Isabella',
  'Mia',
  'Amelia',
  'Harper',
  'Evelyn',
  'Abigail',
  'María',
  'Chloé',
  'Zoë',
  'Grace',
  'Nora',
  'Aaliyah',
  'Mei',
  'Priya',
  'Fatima',
  'Hannah',
] as const;

export const MALE_GIVEN = [
  'Liam',
  'Noah',
  'Oliver',
  'Elijah',
  'James',
  'William',
  'Benjamin',
  'Lucas',
  'Henry',
  'Theodore',
  'José',
  'Mateo',
  'Omar',
  'Wei',
  'Arjun',
  'Darnell',
  'Kwame',
  'Søren',
  'Connor',
  'Samuel',
] as const;

export const FAMILY_NAMES = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodríguez',
  'Martinez',
  'Hernández',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Pérez',
  'Thompson',
  'White',
  'Harris',
  'Sanchez',
  'Clark',
  'Ramirez',
  'Lewis',
  'Robinson',
  "O'Brien",
  'Nguyen',
  'Kim',
  'Patel',
  'Okafor',
  'Müller',
  'Kowalski',
  'Cohen',
  'Haddad',
  'Yamamoto',
] as const;

export const STREET_NAMES = [
  'Maple',
  'Oak',
  'Cedar',
  'Pine',
  'Elm',
  'Washington',
  'Lake',
  'Hill',
  'Park',
  'Main',
  'Lincoln',
  'Jefferson',
  'Sunset',
  'River',
  'Church',
  'Highland',
  'Meadow',
  'Forest',
  'Spring',
  'Mill',
] as const;

export const STREET_SUFFIXES = ['St', 'Ave', 'Rd', 'Blvd', 'Ln', 'Dr', 'Ct', 'Way'] as const;

/** City, state and the first three digits of its ZIP codes. */
export const CITIES = [
  { city: 'Springfield', state: 'IL', zip3: '627', area: '217' },
  { city: 'Madison', state: 'WI', zip3: '537', area: '608' },
  { city: 'Columbus', state: 'OH', zip3: '432', area: '614' },
  { city: 'Salem', state: 'OR', zip3: '973', area: '503' },
  { city: 'Franklin', state: 'TN', zip3: '370', area: '615' },
  { city: 'Greenville', state: 'SC', zip3: '296', area: '864' },
  { city: 'Fairview', state: 'NC', zip3: '287', area: '828' },
  { city: 'Riverside', state: 'CA', zip3: '925', area: '951' },
] as const;

/** Fictional hospitals: code (MSH-4 and MRN authority stem), display name, ADT system (MSH-3). */
export const HOSPITALS = [
  { code: 'NRTHGEN', name: 'Northside General Hospital', application: 'EPICADT' },
  { code: 'STMARY', name: "St. Mary's Medical Center", application: 'CERNERPM' },
  { code: 'LAKEVW', name: 'Lakeview Community Hospital', application: 'MEDITECH' },
  { code: 'RIVRGN', name: 'Riverside Regional Medical Center', application: 'EPICADT' },
  { code: 'HIGHPK', name: 'Highland Park Hospital', application: 'ALLSCRPT' },
  { code: 'VALLEY', name: 'Valley Children and Family Hospital', application: 'CERNERPM' },
] as const;

export const HOSPITAL_UNITS = ['4WEST', '5EAST', 'ICU', 'MEDSURG', 'TELE', 'CCU', 'ORTHO', '3NORTH'] as const;
